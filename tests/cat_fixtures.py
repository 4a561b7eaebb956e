"""A small CAT tag table of four concepts, shared by the CAT judge and rating-page tests."""

import pandas as pd

TABLE = pd.DataFrame({
    "index": ["1", "2", "3", "4"],
    "folder": ["00001_ant", "00002_bee", "00003_car", "00004_bus"],
    "broad_1": ["animal", "animal", "vehicle", "vehicle"],
    "broad_2": ["insect", "insect", "road vehicle", "road vehicle"],
    "specific": ["social insect", "flying insect", "passenger car", "public transport"],
    "concept": ["ant", "bee", "car", "bus"],
    "background": ["soil", "flower", "street", "street"],
})  # fmt: skip
