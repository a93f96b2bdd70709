"""Small builders, so each operation in paths.py reads as a list of what it takes and answers."""

VIDEO_ID_PATTERN = r"^user:\w+-minimax:[\w.]+-video:\d{1,18}$"
FILE_ID_PATTERN = r"^user:\w+-minimax:[\w.]+-file:\d{1,18}$"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def answer(description: str, schema: dict, *, headers: dict | None = None) -> dict:
    response = {"description": description, "content": json_content(schema)}
    if headers:
        response["headers"] = headers
    return response


def error(description: str) -> dict:
    """An answer with the shared `{"error": "...", "code": N}` body."""
    return answer(description, ref("Error"))


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def token_errors(*, admin: bool = False) -> dict:
    """The answers every operation that needs a token can give, besides its own."""
    responses = {
        "401": error(
            "No token, or a token that is unknown, revoked, or whose user left the team. "
            'The body is `{"error": "Unauthorized", "code": 401}`.'
        ),
        "429": {"$ref": "#/components/responses/RateLimited"},
    }
    if admin:
        responses["403"] = error(
            "The token belongs to a team member who is not an admin: only team admins can "
            "list, add or delete accounts."
        )
    return responses


# Any request can be refused so (videos/middleware.py, videos/textguard.py); an operation that
# documents its own 400 says so there too.
UNREADABLE = error(
    "The request holds text the studio cannot keep (a lone UTF-16 surrogate or a NUL character, "
    "in a JSON field, the address, the query string or a header) or a Content-Type charset "
    "other than UTF-8. The error names where."
)


def operation(
    summary: str,
    description: str,
    *,
    tag: str,
    operation_id: str,
    responses: dict,
    admin: bool = False,
    parameters: list | None = None,
    body: dict | None = None,
    public: bool = False,
) -> dict:
    op = {
        "tags": [tag],
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "responses": {
            "400": UNREADABLE,
            **({} if public else token_errors(admin=admin)),
            **responses,
        },
    }
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def path_param(name: str, description: str, *, pattern: str | None = None) -> dict:
    schema = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def query_param(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def limit_param(default: int) -> dict:
    return query_param(
        "limit",
        f"How many to return, newest first (default {default}).",
        {"type": "integer", "minimum": 1, "maximum": 100},
    )


ACCOUNT_PARAM = query_param(
    "account",
    "Only videos of this account (its id, or its name). An account the team does not have "
    "is a 404.",
    {"type": "string"},
)


def string(description: str = "", **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def integer(description: str = "", **extra) -> dict:
    return {"type": "integer", **({"description": description} if description else {}), **extra}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def obj(properties: dict, *, required: list | None = None, **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    schema["required"] = list(properties) if required is None else required
    if not schema["required"]:
        del schema["required"]
    return schema


# The JSON shapes (records.py)

STATUS_CODES = [0, 1, 2, 3, 5, 11]
STATUS_LABELS = ["queued", "pending", "processing", "completed", "failed", "moderated", "cancelled"]
TIMESTAMP = string(
    "UTC, ISO 8601 with milliseconds, e.g. 2024-09-25T01:55:16.128Z.", format="date-time"
)


def status_info(*, service_time: bool = False) -> dict:
    properties = {
        "code": integer("0 on success; otherwise an error code."),
        "httpCode": integer(),
        "message": string(),
    }
    if service_time:
        properties["serviceTime"] = integer("Unix time of the answer, in seconds.")
    return obj(properties)
