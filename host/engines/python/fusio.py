"""Fusio's Python action API, the Python side of PHP Fusio's worker.

An action module defines

    def handle(request, context, connector, response, dispatcher, logger):
        return response.build(200, {}, {"message": "Hello"})

and Fusio builds it into an action component with componentize-py, with this
module beside it. Everything here calls the host through the action world's
imports; a failed call raises `ConnectorError` with its `code`
(`access-denied`, `not-found`, `unavailable`, `query`, `timeout`).
"""

import datetime as _datetime
import json as _json
import sys as _sys
import traceback as _traceback

from componentize_py_types import Err, Ok
from wit_world.imports import cache as _cache
from wit_world.imports import config as _config
from wit_world.imports import connector as _connector
from wit_world.imports import logger as _logger
from wit_world.imports import processor as _processor
from wit_world.imports import response as _response
from wit_world.imports import types as _types

__all__ = ["ConnectorError", "cache", "run"]


class ConnectorError(Exception):
    """A connector call the host refused; `code` names the case."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


_CODES = {
    _connector.ConnectorError_AccessDenied: "access-denied",
    _connector.ConnectorError_NotFound: "not-found",
    _connector.ConnectorError_Unavailable: "unavailable",
    _connector.ConnectorError_Query: "query",
    _connector.ConnectorError_Timeout: "timeout",
}


def _host(call, *args):
    try:
        return call(*args)
    except Err as err:
        case = err.value
        raise ConnectorError(_CODES.get(type(case), "unavailable"), case.value) from None


def _sql_value(value):
    if value is None:
        return _connector.SqlValue_Null()
    if isinstance(value, bool):
        return _connector.SqlValue_Boolean(value)
    if isinstance(value, int):
        return _connector.SqlValue_Integer(value)
    if isinstance(value, float):
        return _connector.SqlValue_Float(value)
    if isinstance(value, str):
        return _connector.SqlValue_Text(value)
    if isinstance(value, (bytes, bytearray)):
        return _connector.SqlValue_Bytes(bytes(value))
    if isinstance(value, (_datetime.datetime, _datetime.date)):
        return _connector.SqlValue_Timestamp(value.isoformat())
    return _connector.SqlValue_Json(_json.dumps(value))


def _params(params):
    return [_sql_value(p) for p in (params or [])]


def _encode(body):
    """A body as bytes and the media type it implies."""
    if body is None:
        return b"", None
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), "application/octet-stream"
    return _json.dumps(body, separators=(",", ":")).encode(), "application/json"


def _pairs(headers):
    return [(str(k), str(v)) for k, v in (headers or {}).items()]


def _with_type(pairs, media):
    if media and not any(k.lower() == "content-type" for k, _ in pairs):
        pairs.append(("content-type", media))
    return pairs


class _Statements:
    def __init__(self, target):
        self._target = target

    def query(self, statement, params=None):
        """Rows as dicts (column name to value)."""
        return _json.loads(_host(self._target.query_json, statement, _params(params)))

    def query_one(self, statement, params=None):
        rows = self.query(statement, params)
        return rows[0] if rows else None

    def execute(self, statement, params=None):
        """How many rows changed."""
        return _host(self._target.execute, statement, _params(params))


class Transaction(_Statements):
    """A transaction; as a context manager it commits unless the block raises."""

    def commit(self):
        _host(self._target.commit)

    def rollback(self):
        _host(self._target.rollback)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.commit()
        else:
            self.rollback()
        return False


class _Http:
    def __init__(self, name):
        self._name = name

    def request(self, method, path, headers=None, body=None):
        data, media = _encode(body)
        request = _connector.HttpRequest(
            method=method.upper(),
            path=path,
            headers=_with_type(_pairs(headers), media if body is not None else None),
            body=data,
        )
        answer = _host(_connector.http_send, self._name, request)
        return HttpResponse(answer.status, dict(answer.headers), answer.body)

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def post(self, path, body=None, headers=None):
        return self.request("POST", path, headers, body)

    def put(self, path, body=None, headers=None):
        return self.request("PUT", path, headers, body)

    def patch(self, path, body=None, headers=None):
        return self.request("PATCH", path, headers, body)

    def delete(self, path, headers=None):
        return self.request("DELETE", path, headers)


class HttpResponse:
    """What an HTTP connection answered."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return _json.loads(self.body)


class Connection(_Statements, _Http):
    """A granted connection by name; the methods of its kind work (SQL
    `query`, `query_one`, `execute`, `begin`; HTTP `request`, `get`, `post`,
    `put`, `patch`, `delete`; Redis `command`; AMQP `publish`), the others
    raise `ConnectorError` with `not-found`."""

    def __init__(self, name):
        _Http.__init__(self, name)
        self._sql = None

    @property
    def _target(self):
        if self._sql is None:
            self._sql = _host(_connector.open_sql, self._name)
        return self._sql

    def begin(self):
        return Transaction(_host(self._target.begin))

    def command(self, command, *args):
        """One Redis command; bytes answers come back as text."""
        data = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        value = _host(_connector.redis, self._name, command, data)
        if isinstance(value, _connector.RedisValue_Nil):
            return None
        if isinstance(value, _connector.RedisValue_Bytes):
            return value.value.decode("utf-8", "replace")
        if isinstance(value, _connector.RedisValue_Items):
            return [item.decode("utf-8", "replace") for item in value.value]
        return value.value

    def publish(self, exchange, routing_key, body, content_type=None):
        data, media = _encode(body)
        _host(_connector.amqp_publish, self._name, exchange, routing_key, data, content_type or media)


class Connector:
    def get_connection(self, name):
        return Connection(name)

    getConnection = get_connection


class _Cache:
    """The action's own cache on this node."""

    def get(self, key):
        value = _cache.get(key)
        return None if value is None else value.decode("utf-8", "replace")

    def set(self, key, value, ttl_ms=60000):
        data = value if isinstance(value, bytes) else str(value).encode()
        _cache.set(key, data, int(ttl_ms))

    def delete(self, key):
        _cache.delete(key)

    def incr(self, key, delta=1, ttl_ms=60000):
        return _cache.incr(key, int(delta), int(ttl_ms))


cache = _Cache()


class Logger:
    def _log(self, level, message, fields):
        _logger.log(level, str(message), [(str(k), v if isinstance(v, str) else _json.dumps(v)) for k, v in fields.items()])

    def debug(self, message, **fields):
        self._log(_logger.Level.DEBUG, message, fields)

    def info(self, message, **fields):
        self._log(_logger.Level.INFO, message, fields)

    notice = info

    def warning(self, message, **fields):
        self._log(_logger.Level.WARN, message, fields)

    warn = warning

    def error(self, message, **fields):
        self._log(_logger.Level.ERROR, message, fields)


class Built:
    """What `response.build` made."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class ResponseFactory:
    def build(self, status, headers=None, body=None):
        return Built(status, headers or {}, body)


def _parse(body, media):
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if "json" in (media or "").lower():
        try:
            return _json.loads(text)
        except ValueError:
            return text
    return text


class RequestContext:
    def __init__(self, method, path, headers):
        self.method = method
        self.path = path
        self.headers = headers


class Request:
    """The request: `arguments` (query and uri fragments), `payload` (the
    body, parsed when it is JSON), `context` (method, path, headers)."""

    def __init__(self, raw):
        self.headers = dict(raw.headers)
        self.uri_fragments = dict(raw.uri_params)
        self.query = dict(raw.query)
        self.arguments = {**self.query, **self.uri_fragments}
        self.payload = _parse(raw.body, self.headers.get("content-type"))
        self.body = raw.body
        self.context = RequestContext(raw.method, raw.path, self.headers)

    def get(self, name, default=None):
        return self.arguments.get(name, default)

    def get_header(self, name):
        return self.headers.get(name.lower())


class Context:
    """Who calls, through which route, and the action's config."""

    def __init__(self, raw):
        self.request_id = raw.request_id
        self.route = raw.route
        self.version = raw.version
        self.app = raw.app
        self.user = raw.user
        self.scopes = list(raw.scopes)
        self.cache = cache
        self._raw = raw
        self._config = None

    @property
    def config(self):
        if self._config is None:
            self._config = dict(_config.all())
        return self._config


class Dispatcher:
    """Runs another deployed action in-process."""

    def __init__(self, context):
        self._context = context

    def call(self, action, method="GET", path="/", query=None, headers=None, body=None, uri_fragments=None):
        data, media = _encode(body)
        request = _types.Request(
            method=method.upper(),
            path=path,
            uri_params=_pairs(uri_fragments),
            query=_pairs(query),
            headers=_with_type(_pairs(headers), media if body is not None else None),
            body=data,
            context=self._context,
        )
        try:
            result = _processor.call(action, request)
        except Err as err:
            raise ConnectorError("failed", str(err.value.value)) from None
        if isinstance(result, Ok):
            answer = result.value
            return HttpResponse(answer.status, dict(answer.headers), answer.body)
        status, detail = _refusal(result.value)
        body = _json.dumps({"status": status, "detail": detail}).encode()
        return HttpResponse(status, {"content-type": "application/problem+json"}, body)


def _refusal(error):
    """A callee's refusal as its status and detail."""
    statuses = {
        _types.ActionError_BadRequest: 400,
        _types.ActionError_Unauthorized: 401,
        _types.ActionError_Forbidden: 403,
        _types.ActionError_NotFound: 404,
        _types.ActionError_Conflict: 409,
        _types.ActionError_Internal: 500,
    }
    if isinstance(error, _types.ActionError_Custom):
        return error.value.status, error.value.detail
    status = statuses.get(type(error), 500)
    return status, None if status == 500 else error.value


def run(handle, raw):
    """Runs `handle` on one request and answers the action world's response."""
    if "random" in _sys.modules:
        # The build snapshots the module state; each request reseeds.
        _sys.modules["random"].seed()
    try:
        answer = handle(
            Request(raw),
            Context(raw.context),
            Connector(),
            ResponseFactory(),
            Dispatcher(raw.context),
            Logger(),
        )
        if not isinstance(answer, Built):
            answer = Built(200, {}, answer)
        data, media = _encode(answer.body)
        pairs = _with_type(_pairs(answer.headers), media if answer.body is not None else None)
        try:
            return _response.build(int(answer.status), pairs, data)
        except Err as err:
            raise ValueError(f"response.build: {err.value}") from None
    except Err:
        raise
    except BaseException:
        raise Err(_types.ActionError_Internal(_traceback.format_exc())) from None
