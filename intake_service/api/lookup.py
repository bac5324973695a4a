"""Routes of this part of intake; filled in as the feature is built."""

from fastapi import APIRouter

from shared.errors import PROBLEM_RESPONSES

router = APIRouter(responses=PROBLEM_RESPONSES)
