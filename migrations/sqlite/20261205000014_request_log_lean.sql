-- Request ids are random: their index took a page write per logged request
-- and made the log's writer the bottleneck under load. A search by request
-- id scans the log like any other search.
DROP INDEX fusio_request_log_request;
