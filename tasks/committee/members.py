"""Committee members held in memory: in this process (:class:`LocalMembers`) or in Ray actors (:class:`RayMembers`).

Either way a member is built and fitted on the whole corpus once, then answers :class:`JudgeRequest` batches.
:class:`RayMembers` starts one actor per member, so members score the same batch in parallel and keep their model
loaded across shards; every Prefect task of a run shares the same actors.

Example:
    >>> from o1embed.tasks.committee.config import CommitteeConfig
    >>> from o1embed.tasks.retrievers import RetrieverSpec
    >>> cfg = CommitteeConfig(members=[RetrieverSpec(kind="bm25s")], use_ray=False)
    >>> members = LocalMembers.start(cfg, ["a", "b"], ["cats purr", "dogs bark"])
    >>> members.names
    ['bm25']
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Protocol

import numpy as np

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.judging import JudgeRequest, MemberJudgement, judge_batch
from o1embed.tasks.retrievers.spec import RetrieverSpec

log = logging.getLogger(__name__)


class Members(Protocol):
    """What the committee needs from its members."""

    names: list[str]
    soft_scales: np.ndarray

    def judge(self, request: JudgeRequest) -> list[MemberJudgement]:
        """Every member's judgement of one batch, in ``names`` order."""
        ...

    def info(self) -> list[dict]:
        """Per member: name, kind, model path and checksum, load and fit seconds."""
        ...


def _fit_member(spec: RetrieverSpec, doc_ids: list[str], texts: list[str]):
    t0 = time.perf_counter()
    retriever = spec.build()
    t1 = time.perf_counter()
    retriever.fit(doc_ids, texts)
    t2 = time.perf_counter()
    info = {
        "name": spec.member_name,
        "kind": spec.kind,
        "spec": spec.model_dump(),
        "load_s": t1 - t0,
        "fit_s": t2 - t1,
    }
    if spec.kind == "dense":
        info["model_path"] = str(retriever.model_path)
        info["model_sha256"] = retriever.model_sha
        info["embedding_cache_hit"] = retriever.cache_hit
    return retriever, info


class LocalMembers:
    """Members fitted in the calling process; they score one after another."""

    def __init__(self, retrievers: list, infos: list[dict] | None = None, soft_scales: list[float] | None = None):
        """Wrap fitted retrievers (any objects with the :class:`~tasks.retrievers.Retriever` interface).

        Args:
            retrievers: fitted retrievers, one per member.
            infos: per-member descriptions for the manifest (default: names only).
            soft_scales: per-member soft-vote scales (default 1).
        """
        self.retrievers = list(retrievers)
        self.names = [r.name for r in self.retrievers]
        self._infos = infos or [{"name": n} for n in self.names]
        scales = soft_scales or [1.0] * len(self.retrievers)
        self.soft_scales = np.asarray(scales, dtype=np.float64)

    @classmethod
    def start(cls, config: CommitteeConfig, doc_ids: list[str], texts: list[str]) -> LocalMembers:
        """Build and fit every member of ``config`` on the corpus."""
        pairs = [_fit_member(spec, doc_ids, texts) for spec in config.members]
        scales = [s.effective_soft_scale for s in config.members]
        return cls([p[0] for p in pairs], [p[1] for p in pairs], scales)

    def judge(self, request: JudgeRequest) -> list[MemberJudgement]:
        return [judge_batch(r, request) for r in self.retrievers]

    def info(self) -> list[dict]:
        return list(self._infos)

    def stop(self) -> None:
        """Nothing to release."""


class MemberActor:
    """Ray actor body: one fitted member (the class is wrapped by ``ray.remote`` in :meth:`RayMembers.start`)."""

    def __init__(self, spec: dict, doc_ids: list[str], texts: list[str]):
        import os

        from o1embed.tasks.ray_runtime import RAY_ENV

        for k, v in RAY_ENV.items():
            os.environ.setdefault(k, v)
        self.retriever, self._info = _fit_member(RetrieverSpec.model_validate(spec), doc_ids, texts)
        self._info["node_id"] = _node_id()

    def judge(self, request: JudgeRequest) -> MemberJudgement:
        return judge_batch(self.retriever, request)

    def info(self) -> dict:
        return self._info


def _node_id() -> str | None:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - outside Ray
        return None


class RayMembers:
    """One Ray actor per member; :meth:`judge` sends a batch to all of them at once."""

    def __init__(self, actors: list, names: list[str], specs: list[RetrieverSpec]):
        self.actors, self.names = actors, names
        self.soft_scales = np.asarray([s.effective_soft_scale for s in specs], dtype=np.float64)
        self._infos: list[dict] | None = None

    @classmethod
    def start(cls, config: CommitteeConfig, doc_ids: list[str], texts: list[str]) -> RayMembers:
        """Start (and wait for) one actor per member; Ray must be initialised (:func:`tasks.ray_runtime.init_ray`)."""
        import ray

        cls_remote = ray.remote(MemberActor)
        corpus_ids, corpus_texts = ray.put(list(doc_ids)), ray.put(list(texts))
        run = uuid.uuid4().hex[:8]
        actors = [
            cls_remote.options(
                num_cpus=config.actor_num_cpus,
                num_gpus=config.actor_num_gpus if spec.kind == "dense" else 0,
                name=f"o1embed-committee-{run}-{spec.member_name}",
                max_concurrency=1,
            ).remote(spec.model_dump(), corpus_ids, corpus_texts)
            for spec in config.members
        ]
        members = cls(actors, [s.member_name for s in config.members], list(config.members))
        members._infos = ray.get([a.info.remote() for a in actors])  # waits until every member is fitted
        log.info("committee actors ready: %s", [(i["name"], round(i["fit_s"], 1)) for i in members._infos])
        return members

    def judge(self, request: JudgeRequest) -> list[MemberJudgement]:
        import ray

        return ray.get([a.judge.remote(request) for a in self.actors])

    def info(self) -> list[dict]:
        import ray

        if self._infos is None:
            self._infos = ray.get([a.info.remote() for a in self.actors])
        return list(self._infos)

    def stop(self) -> None:
        """Kill the actors (their models are freed)."""
        import ray

        for a in self.actors:
            ray.kill(a)


def start_members(config: CommitteeConfig, doc_ids: list[str], texts: list[str]) -> LocalMembers | RayMembers:
    """Start the members where ``config.use_ray`` says (Ray is initialised when needed)."""
    if config.use_ray:
        from o1embed.tasks.ray_runtime import init_ray

        init_ray()
        return RayMembers.start(config, doc_ids, texts)
    return LocalMembers.start(config, doc_ids, texts)
