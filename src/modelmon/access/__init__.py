"""Who may do what: API keys with roles, the failed-authentication limiter, audit entries.

Pure parts (no I/O): the service keeps keys and the audit log in its store
(:mod:`modelmon.store.access`) and checks them per request (:mod:`modelmon.service.auth`).
"""

from modelmon.access.audit import AuditEntry
from modelmon.access.keys import (
    KEY_PREFIX,
    ROLES,
    KeyRecord,
    Principal,
    Role,
    hash_key,
    key_id_of,
    new_key,
)
from modelmon.access.limiter import FailureLimiter

__all__ = ["KEY_PREFIX", "ROLES", "AuditEntry", "FailureLimiter", "KeyRecord", "Principal", "Role",
           "hash_key", "key_id_of", "new_key"]
