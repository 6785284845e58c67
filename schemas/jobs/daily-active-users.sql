-- window: daily
-- lateness: 30m
-- description: Daily active users (distinct users with a page view) and their page views, by platform and country
-- order_by: platform, country

SELECT
  ifNull(platform, 'unknown') AS platform,
  ifNull(country, 'unknown') AS country,
  uniqExact(user_id) AS active_users,
  count() AS page_views
FROM page_view FINAL
WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}
  AND user_id IS NOT NULL
GROUP BY platform, country
