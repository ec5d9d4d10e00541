-- Team trends read one row per person and day instead of one per app: the day's totals over
-- all devices and apps, with its per-category totals packed in `categories` as lines of
-- "category<TAB>active<TAB>idle<TAB>clocked<TAB>input". Kept up to date by ingest (the days a
-- batch touches are summed again from `rollups`); filled here from what is stored.
-- Never edit once landed.
CREATE TABLE person_days (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    active_ms  INTEGER NOT NULL,
    idle_ms    INTEGER NOT NULL,
    clocked_ms INTEGER NOT NULL,
    input_ms   INTEGER NOT NULL,
    categories TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

INSERT INTO person_days (user_id, day, active_ms, idle_ms, clocked_ms, input_ms, categories)
SELECT user_id, day, SUM(a), SUM(i), SUM(c), SUM(n),
       group_concat(category || char(9) || a || char(9) || i || char(9) || c || char(9) || n,
                    char(10))
FROM (SELECT user_id, day, category, SUM(active_ms) AS a, SUM(idle_ms) AS i,
             SUM(clocked_ms) AS c, SUM(input_ms) AS n
      FROM rollups WHERE hour = -1
      GROUP BY user_id, day, category)
GROUP BY user_id, day;
