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
        "(`per_label`), per annotator pair (`pairs`) and per ISO week (`over_time`). Analysts get 403.",
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(agreement_get(project=self.get_project(Action.OVERSEE)).to_json())
