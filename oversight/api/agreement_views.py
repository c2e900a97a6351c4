"""Inter-annotator agreement of a project, for those who oversee it (owners, reviewers, data scientists)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oversight.selectors.agreement import agreement_get
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class AgreementApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="Agreement between annotators on items rated at least twice: percent agreement, mean "
        "pairwise Cohen's kappa, Fleiss' kappa and Krippendorff's alpha (nominal), overall, per label "
        "(`per_label`), per annotator pair (`pairs`) and per ISO week (`over_time`). Analysts get 403.\n\n"
        'Span projects get a span-shaped report instead, marked `"kind": "spans"`, over items answered at '
        "least twice: `exact_f1` and `overlap_f1` (span F1 between annotators, every pair's shared items "
        "pooled; exact: same start, end and type; overlap: same type and a shared character, matched one to "
        "one), `exact_f1_mean` and `overlap_f1_mean` (mean over pairs), `krippendorff_alpha` (nominal, over "
        "`n_tokens` tokens valued by the type covering them or O), `per_type` (key -> `n_spans`, `exact_f1`, "
        "`overlap_f1`; null where nobody marked it) and `pairs` (`a`, `b`, `a_key`, `b_key`, `n_items`, "
        "`exact_f1`, `overlap_f1`, `per_type`: exact F1 per type). `percent_agreement`, `cohen_kappa_mean` "
        "and `fleiss_kappa` are null and `over_time` empty there.",
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(agreement_get(project=self.get_project(Action.OVERSEE)).to_json())
