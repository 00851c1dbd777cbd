"""Domain errors with stable codes; mapped to HTTP and to the user's language in one place (web.py)."""

from __future__ import annotations

from market.i18n import N_  # messages are msgids, translated where they are shown


class DomainError(Exception):
    """A rule refused the operation. `code` is stable API; `message` is a msgid (Chinese source text)
    that the web layer translates; `params` fill its placeholders."""

    status_code = 400

    def __init__(self, code: str, message: str, *, status_code: int | None = None, **params):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.params = params
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404

    def __init__(self, code: str = "not_found", message: str = N_("未找到该对象"), **params):
        super().__init__(code, message, **params)


class Conflict(DomainError):
    """The object changed under us (a compare-and-set lost) or the move is not allowed from its state."""

    status_code = 409


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, code: str = "auth.forbidden", message: str = N_("您的角色无权执行此操作"), **params):
        super().__init__(code, message, **params)


class Unauthorized(DomainError):
    status_code = 401

    def __init__(self, code: str = "auth.required", message: str = N_("请先登录"), **params):
        super().__init__(code, message, **params)
