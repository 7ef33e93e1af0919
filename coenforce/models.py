"""Every model, imported in one place so that the metadata is complete
(Alembic, the data inventory and the tests read it from here)."""
from coenforce.audit.models import AuditEntry  # noqa: F401
from coenforce.complaints.models import (  # noqa: F401
    Complaint, ComplaintRetaliation, ComplaintShare, DamageItem, ResponseAction, ShareEvent,
)
from coenforce.db import Base
from coenforce.detentions.models import Acknowledgement, AlertPartner, AlertTask, DetentionAlert  # noqa: F401
from coenforce.escalation.models import Deadline, EscalationStep, Holiday  # noqa: F401
from coenforce.legal.models import Consulate, LegalProvider, ProviderCounty, ProviderLanguage  # noqa: F401
from coenforce.notify.models import Notice  # noqa: F401
from coenforce.partners.models import Organization, Partnership, User  # noqa: F401
from coenforce.protections.models import (  # noqa: F401
    CertificationRequest, DeferredActionGrant, InterestLetter, ProtectionSettings,
)
from coenforce.security.models import ApiToken, RecoveryCode, UserSession  # noqa: F401
from coenforce.thirdparty.models import EmployerEvidence, ReportViolation, ThirdPartyReport  # noqa: F401

metadata = Base.metadata
