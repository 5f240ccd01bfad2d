"""/api/v1/reviews and /api/v1/models/{name}/reviews — periodic reviews."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.reviews import Review, ReviewDue
from steward.services import reviews

router = APIRouter(prefix="/api/v1", tags=["reviews"])


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(description="satisfactory, needs_improvement or unsatisfactory")
    notes: str = Field(description="What was reviewed and concluded")


@router.post("/models/{name}/reviews", status_code=201, response_model=Review)
async def complete(name: str, body: ReviewBody, call: Caller = Depends(caller)) -> Response:
    done = await call.run(reviews.complete_review, name, outcome=body.outcome, notes=body.notes)
    return respond(done, 201)


@router.get("/models/{name}/reviews", response_model=list[Review])
async def list_reviews(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(reviews.list_reviews, name), tp=list[Review])


@router.get("/reviews/due", response_model=list[ReviewDue])
async def due(
    within_days: int = Query(30, description="Also list reviews due within this many days"),
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(reviews.reviews_due, within_days=within_days)
    return respond(found, tp=list[ReviewDue])


@router.get("/reviews/{review_id}", response_model=Review)
async def get_review(review_id: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(reviews.get_review, review_id))
