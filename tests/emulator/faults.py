"""The answers of injected faults that replace the real reply (see Emulator.fault)."""

from tests.emulator.wire import Reply, base_resp, useapi_error

CODE_MESSAGES = {
    1000: "unknown error",
    1001: "request timeout",
    1002: "trigger rate limit, please contact the sales representative",
    1004: "login fail: token not match group",
    1008: "insufficient balance",
    1013: "internal service error",
    1024: "internal error",
    1033: "system error: mysql failed",
    2013: "invalid params",
    2049: "invalid api key",
    2056: "usage limit exceeded, please wait for the next 5-hour window",
}
# useapi speaks HTTP statuses; a MiniMax code fault becomes the status useapi would relay.
USEAPI_STATUS = {1002: 429, 1004: 401, 2049: 401, 1008: 412, 2056: 412, 2013: 400}
# useapi.net's answers for the statuses only it uses (useapi-minimax.md §8).
USEAPI_STATUS_ERRORS = {
    412: "Account has run out of credits",
    596: "Account placed on hold",
}
GATEWAY_PAGES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    504: "504 Gateway Time-out",
}


def fault_reply(kind: str, route: str, is_useapi: bool) -> Reply:
    """The reply for a fault `kind` other than slow, drop and drop_after."""
    if kind.startswith("http_"):
        status = int(kind.removeprefix("http_"))
        if status in USEAPI_STATUS_ERRORS:
            # MiniMax never sends these; a MiniMax route answers useapi.net's body all the same.
            return useapi_error(status, USEAPI_STATUS_ERRORS[status])
        if is_useapi:
            return useapi_error(status, GATEWAY_PAGES[status].split(" ", 1)[1])
        return _gateway_page(status)
    if kind == "malformed":
        # Cut off mid-document under a JSON content type: the parse must fail, not the transport.
        return Reply(body=b'{"base_resp": {"status_code": 0, "status_msg": "succ')
    code = int(kind.removeprefix("code_"))
    message = CODE_MESSAGES[code]
    if is_useapi:
        return useapi_error(USEAPI_STATUS.get(code, 500), f"{message} ({code})")
    if route == "create":
        return base_resp(code, message, task_id="")
    return base_resp(code, message)


def _gateway_page(status: int) -> Reply:
    title = GATEWAY_PAGES[status]
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(status=status, body=body.encode(), content_type="text/html")
