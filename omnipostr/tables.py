"""Imports every capability's tables so that SQLModel.metadata knows the whole schema
(used by migrations and by the test set-up)."""

from omnipostr.accounts import models as accounts_models  # noqa: F401
from omnipostr.api import models as api_models  # noqa: F401
from omnipostr.audit import models as audit_models  # noqa: F401
from omnipostr.billing import models as billing_models  # noqa: F401
from omnipostr.breach import models as breach_models  # noqa: F401
from omnipostr.jobs import models as jobs_models  # noqa: F401
from omnipostr.notify import models as notify_models  # noqa: F401
from omnipostr.privacy import models as privacy_models  # noqa: F401
from omnipostr.repurpose import models as repurpose_models  # noqa: F401
from omnipostr.retention import models as retention_models  # noqa: F401
from omnipostr.usage import models as usage_models  # noqa: F401
