"""BERT-family sentence classifiers on verbal arithmetic (issue 4).

Kept free of heavy imports: the report stage imports `pipeline.bert.report`.
"""
