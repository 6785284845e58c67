-- window: hourly
-- lateness: 10m
-- description: Users per funnel step within the hour: page_view, then a click, then a purchase (each after the previous one)
-- order_by: step

-- Per user, the furthest step reached in order within the window (windowFunnel over milliseconds: a chain
-- of strictly increasing times, all inside the hour); then users reaching at least each step.
WITH per_user AS (
  SELECT user_id, windowFunnel(3600000, 'strict_increase')(ts, name = 'page_view', name = 'click', name = 'purchase') AS level
  FROM (
    SELECT user_id, toUInt64(toUnixTimestamp64Milli(event_time)) AS ts, 'page_view' AS name FROM page_view FINAL
      WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)} AND user_id IS NOT NULL
    UNION ALL
    SELECT user_id, toUInt64(toUnixTimestamp64Milli(event_time)), 'click' FROM click FINAL
      WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)} AND user_id IS NOT NULL
    UNION ALL
    SELECT user_id, toUInt64(toUnixTimestamp64Milli(event_time)), 'purchase' FROM purchase FINAL
      WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)} AND user_id IS NOT NULL
  )
  GROUP BY user_id
)
SELECT toInt32(step) AS step, ['page_view', 'click', 'purchase'][step] AS step_name, toInt64(countIf(level >= step)) AS users
FROM per_user ARRAY JOIN [1, 2, 3] AS step
GROUP BY step
