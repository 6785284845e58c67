-- window: daily
-- lateness: 30m
-- description: Revenue (sum of price) and orders per currency and day
-- order_by: currency

SELECT
  ifNull(currency, 'unknown') AS currency,
  uniqExact(order_id) AS orders,
  count() AS purchases,
  sum(ifNull(quantity, 0)) AS units,
  sum(ifNull(price, 0)) AS revenue
FROM purchase FINAL
WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}
GROUP BY currency
