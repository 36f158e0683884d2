"""One thin entry point per DVC stage: read params -> call pipeline -> write outputs."""
