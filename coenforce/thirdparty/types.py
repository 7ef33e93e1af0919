"""The vocabulary of third-party complaints, with labels."""
from flask_babel import lazy_gettext as _l

from coenforce.enums import LabeledEnum


class ViolationType(LabeledEnum):
    WAGE_THEFT = "wage_theft", _l("Wage theft")
    OVERTIME = "overtime", _l("Unpaid overtime")
    RETALIATION = "retaliation", _l("Retaliation")
    HEALTH_AND_SAFETY = "health_and_safety", _l("Health and safety")
    MISCLASSIFICATION = "misclassification", _l("Misclassification as contractors")
    CHILD_LABOR = "child_labor", _l("Child labor")
    OTHER = "other", _l("Other")


class Industry(LabeledEnum):
    AGRICULTURE = "agriculture", _l("Agriculture")
    CONSTRUCTION = "construction", _l("Construction")
    FOOD_PROCESSING = "food_processing", _l("Food processing and meatpacking")
    RESTAURANTS = "restaurants", _l("Restaurants")
    CAR_WASHES = "car_washes", _l("Car washes")
    DOMESTIC_WORK = "domestic_work", _l("Domestic work")
    GARMENT = "garment", _l("Garment")
    WAREHOUSES = "warehouses", _l("Warehouses and logistics")
    JANITORIAL = "janitorial", _l("Janitorial")
    HOSPITALITY = "hospitality", _l("Hotels and hospitality")
    RETAIL = "retail", _l("Retail")
    HOME_CARE = "home_care", _l("Home care")
    LANDSCAPING = "landscaping", _l("Landscaping")
    MANUFACTURING = "manufacturing", _l("Manufacturing")
    OTHER = "other", _l("Other")


class Source(LabeledEnum):
    PARTNER = "partner", _l("A partner organization")
    AGENCY = "agency", _l("The agency")
    PUBLIC = "public", _l("The public intake page")


class ReportStatus(LabeledEnum):
    RECEIVED = "received", _l("Received: awaiting acknowledgement")
    ACKNOWLEDGED = "acknowledged", _l("Acknowledged: awaiting a decision")
    INVESTIGATING = "investigating", _l("Investigation opened")
    QUEUED = "queued", _l("Queued for strategic enforcement")
    DECLINED = "declined", _l("Declined")


class Decision(LabeledEnum):
    INVESTIGATE = "investigate", _l("Open an investigation")
    QUEUE = "queue", _l("Queue for strategic enforcement")
    DECLINE = "decline", _l("Decline")


# The status each decision leaves a report in.
STATUS_AFTER = {Decision.INVESTIGATE: ReportStatus.INVESTIGATING, Decision.QUEUE: ReportStatus.QUEUED,
                Decision.DECLINE: ReportStatus.DECLINED}
