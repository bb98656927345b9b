import sqlite3,os
r = sqlite3.connect("file:home/state.db?mode=ro", uri=True)
r.execute("select count(*) from t").fetchall(); r.close()
