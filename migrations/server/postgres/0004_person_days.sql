-- Team trends read one row per person and day instead of one per app: the day's totals over
-- all devices and apps, with its per-category totals packed in `categories` as lines of
-- "category<TAB>active<TAB>idle<TAB>clocked<TAB>input". Kept up to date by ingest (the days a
-- batch touches are summed again from `rollups`); filled here from what is stored.
-- Never edit once landed.
CREATE TABLE person_days (
    user_id    BIGINT NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    active_ms  BIGINT NOT NULL,
    idle_ms    BIGINT NOT NULL,
    clocked_ms BIGINT NOT NULL,
    input_ms   BIGINT NOT NULL,
    categories TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);

INSERT INTO person_days (user_id, day, active_ms, idle_ms, clocked_ms, input_ms, categories)
SELECT user_id, day, SUM(a), SUM(i), SUM(c), SUM(n),
       string_agg(category || chr(9) || a || chr(9) || i || chr(9) || c || chr(9) || n,
                  chr(10) ORDER BY category)
FROM (SELECT user_id, day, category, SUM(active_ms) AS a, SUM(idle_ms) AS i,
             SUM(clocked_ms) AS c, SUM(input_ms) AS n
      FROM rollups WHERE hour = -1
      GROUP BY user_id, day, category) per_category
GROUP BY user_id, day;
