"""The papers' claims, judged: per-seed parts and the rules the papers' words set
(`verdicts`), the statistics they use (`stats`), and the scorecard that finds the runs,
judges every registered claim and writes the table and the criteria page (`scorecard`).

Each family lists its own claims (`<family>/claims.py`) as `scorecard.Claim`s in its
Experiment; this package knows no family."""
