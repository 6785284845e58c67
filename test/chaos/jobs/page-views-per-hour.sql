-- window: hourly
-- lateness: 0
-- description: Page views per hour, the job the chaos run kills beside ingest
-- order_by: views

SELECT toInt64(count()) AS views
FROM page_view FINAL
WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}
