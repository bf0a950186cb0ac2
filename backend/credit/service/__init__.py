"""Use cases of credit, split by use case; everything is importable from here.

CONTRACT used by other domains (points, scenarios, commitments): get_standing, PERSON_STANDING,
record_event, log_query, update_points_rating, list_subject_records and Standing. None of them commits:
they run in the caller's transaction. Importing this package registers the real-name
verification hook (the first snapshot is stored when a person is verified).
"""

from backend.credit.service.admin import (
    activate_model,
    create_model,
    expire,
    ingest_batch,
    list_models,
    recompute_all,
)
from backend.credit.service.core import (
    ItemResult,
    Standing,
    get_standing,
    list_subject_records,
    log_query,
    query_logger,
    recompute,
    record_event,
    update_points_rating,
)
from backend.credit.service.disputes import (
    apply_repair,
    decide_objection,
    decide_repair,
    file_objection,
    list_department_objections,
    list_department_repairs,
    list_subject_objections,
    list_subject_repairs,
)
from backend.credit.service.reads import (
    PERSON_STANDING,
    department_enterprises,
    department_records,
    enterprise_credit,
    list_categories,
    my_credit,
    my_history,
    my_queries,
    subject_records,
)

__all__ = [
    "PERSON_STANDING", "ItemResult", "Standing", "activate_model", "apply_repair", "create_model", "decide_objection",
    "decide_repair", "department_enterprises", "department_records", "enterprise_credit", "expire",
    "file_objection", "get_standing", "ingest_batch", "list_categories", "list_department_objections",
    "list_department_repairs", "list_models", "list_subject_objections", "list_subject_repairs", "list_subject_records",
    "log_query", "my_credit", "my_history", "my_queries", "subject_records", "query_logger", "recompute", "recompute_all",
    "record_event", "update_points_rating",
]
