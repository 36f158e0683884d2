"""The answer sheet, `reports/answers.md`: every question of the assignment versions, by id.

`questions` lists the ids, titles and sentence limits; `sentences` counts sentences;
`implementations` answers the code rows of the shared translation models; `sheet`
collects every section's answers, checks them and renders the sheet (stage `report`).
"""
