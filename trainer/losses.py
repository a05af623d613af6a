"""The joint loss: lambda * InfoNCE + (1 - lambda) * LM loss on the thought tokens.

**InfoNCE.** Each query scores every passage of the *global* batch (its positive, its hard negatives, and every
other query's passages). Vectors are gathered from all workers with :func:`gather_with_grad`: the gathered copy
keeps the autograd graph of the local slice only, so each worker computes the same global loss but back-propagates
into its own queries and passages; summing the workers' gradients
(:func:`trainer.collectives.all_reduce_gradients`) then yields exactly the gradient of the global loss, the same
as one worker holding the whole batch.

**LM loss.** Next-token cross-entropy on the thought tokens and the end token only (labels mark them), averaged over
the thought tokens of the global batch. The vocabulary projection runs only on those positions. A batch with no
thought token (every thought dropped or empty) gives 0 with a gradient graph, never NaN.

**Decision loss** (optional, ``decision_weight``). At the ``<thought>`` of each example with a thought or a skip, the
model's probability of closing at once, ``p_close = softmax(logits)[eos]`` (what ``think="auto"`` thresholds), gets a
binary cross-entropy against the committee's decision: ``-log p_close`` on a skip example, ``-log(1 - p_close)`` on
an example with a winning thought, averaged over the decisions of the global batch, so each decision weighs the same.
The LM loss alone does teach the decision (a skip's ``</s>`` label, a thought's first-token label), but as a mean over
the batch's labelled tokens: a decision weighs ``1 / (labelled tokens of its batch)``. In the 809-query run of
``docs/results/thinking-809``, 37 of 200 steps held skips and bare queries only (at most 4 labels), where a ``</s>``
weighs ~27 times a first token in the other steps (median 109 labels). That pushes ``p_close`` up whatever the query:
the model closes at once on ~98% of its training queries, of either decision (AUC 0.53).
With ``decision_weight=0.5`` (``docs/results/decision-809``, 200 steps) the decision loss settles at the base rate's
entropy and ``p_close`` still does not separate held-out skips from thinks (AUC 0.51), although the decision is
predictable from the query: a logistic regression on BM25's confidence scores AUC 0.73 on the same queries
(``bench/decision_predictability.py``). At this size the LM head does not learn it.

References:
    Yan et al., "O1 Embedder: Let Retrievers Think Before Action", arXiv 2502.07555.

Example:
    >>> q = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    >>> p = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    >>> float(info_nce(q, p, torch.tensor([0, 3]), temperature=0.02)) > 0
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from o1embed.trainer.collectives import all_reduce_sum, gather_with_grad, world
from o1embed.trainer.sequences import IGNORE


def info_nce(
    q: torch.Tensor,
    p: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean cross-entropy of each query's positive among all passages.

    Args:
        q: ``(n_q, dim)`` unit query vectors.
        p: ``(n_p, dim)`` unit passage vectors.
        targets: ``(n_q,)`` column of each query's positive in ``p``.
        temperature: tau; scores are ``q @ p.T / tau``.
        mask: optional ``(n_q, n_p)`` bool, True where a passage must not count as a negative (another copy of one
            of the query's positives). The target column itself is never masked.

    Returns:
        Scalar loss.
    """
    scores = q.float() @ p.float().T / temperature  # (n_q, n_p)
    if mask is not None:
        mask = mask.clone()
        mask[torch.arange(len(targets)), targets] = False
        scores = scores.masked_fill(mask, float("-inf"))
    return F.cross_entropy(scores, targets)


def lm_loss_sum(hidden: torch.Tensor, labels: torch.Tensor, lm_head: torch.nn.Module) -> tuple[torch.Tensor, int]:
    """Summed next-token cross-entropy over labelled positions, projecting only those hidden states.

    Args:
        hidden: ``(batch, seq, dim)`` last hidden states.
        labels: ``(batch, seq)`` target ids, ``IGNORE`` where no loss applies (aligned with the inputs; the shift
            happens here: position ``i`` predicts label ``i + 1``).
        lm_head: the output projection.

    Returns:
        ``(sum of token losses, number of labelled tokens)``; the sum is ``0 * hidden.sum()`` when there are none,
        so backward still works and nothing is NaN.
    """
    targets = labels[:, 1:]  # (batch, seq-1)
    keep = targets != IGNORE
    count = int(keep.sum())
    if count == 0:
        return hidden.sum() * 0.0, 0
    h = hidden[:, :-1][keep]  # (count, dim)
    logits = lm_head(h).float()  # (count, vocab)
    return F.cross_entropy(logits, targets[keep], reduction="sum"), count


def decision_loss_sum(
    hidden: torch.Tensor, decision_index: torch.Tensor, labels: torch.Tensor, lm_head: torch.nn.Module, eos: int
) -> tuple[torch.Tensor, int]:
    """Summed binary cross-entropy of the think-or-close decision at each row's ``<thought>``.

    Args:
        hidden: ``(batch, seq, dim)`` last hidden states.
        decision_index: ``(batch,)`` position of the row's ``<thought>``, -1 for a row with no decision (bare query).
        labels: ``(batch, seq)`` LM labels; the label after the ``<thought>`` is ``eos`` on a skip example (close)
            and the thought's first token otherwise (think).
        lm_head: the output projection.
        eos: the end token id.

    Returns:
        ``(sum of the decisions' losses, number of decisions)``; ``0 * hidden.sum()`` and 0 when no row decides.

    Example:
        >>> head = torch.nn.Linear(4, 3, bias=False)
        >>> s, n = decision_loss_sum(torch.randn(2, 5, 4), torch.tensor([1, -1]), torch.full((2, 5), 2), head, 2)
        >>> n, bool(s > 0)
        (1, True)
    """
    rows = (decision_index >= 0).nonzero(as_tuple=True)[0]  # (m,)
    if len(rows) == 0:
        return hidden.sum() * 0.0, 0
    pos = decision_index[rows]  # (m,)
    logits = lm_head(hidden[rows, pos]).float()  # (m, vocab)
    total = torch.logsumexp(logits, dim=-1)  # (m,)
    log_close = logits[:, eos] - total  # (m,) log p_close
    rest = logits.index_fill(1, torch.tensor([eos], device=logits.device), float("-inf"))
    log_think = torch.logsumexp(rest, dim=-1) - total  # (m,) log(1 - p_close), without cancellation
    close = labels[rows, pos + 1] == eos  # (m,)
    return -torch.where(close, log_close, log_think).sum(), len(rows)


def joint_loss(
    q_local: torch.Tensor,
    p_local: torch.Tensor,
    targets: torch.Tensor,
    lm_sum: torch.Tensor,
    lm_count: int,
    contrastive_weight: float,
    temperature: float,
    mask: torch.Tensor | None = None,
    q_query_local: torch.Tensor | None = None,
    query_weight: float = 0.5,
    decision_sum: torch.Tensor | None = None,
    decision_count: int = 0,
    decision_weight: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Combine both losses for one worker's backward; also return the global values for logging.

    Args:
        q_local: ``(n_q_local, dim)`` this worker's query vectors.
        p_local: ``(n_p_local, dim)`` this worker's passage vectors (same count on every worker).
        targets: ``(n_q_global,)`` column of each global query's positive among the global passages.
        lm_sum: this worker's summed LM token loss; lm_count: its token count.
        contrastive_weight: lambda.
        temperature: tau.
        mask: ``(n_q_global, n_p_global)`` passages that are positives of the query (see :func:`info_nce`).
        q_query_local: ``(n_q_local, dim)`` the same queries' query-only vectors (the ``<emb>`` after
            ``</query>``, ``first_emb``), or None. When given, InfoNCE is
            ``(1 - query_weight) * nce(q) + query_weight * nce(q_query)`` with the same targets, so either vector
            can be used alone at inference.
        query_weight: the query-only vector's share of the contrastive term.
        decision_sum: this worker's summed decision loss (:func:`decision_loss_sum`), or None; decision_count:
            its number of decisions.
        decision_weight: weight of the global mean decision loss, added to the lambda-mixed loss.

    Returns:
        ``(loss to back-propagate, {"loss", "contrastive", "lm", "thought_tokens", ...})``; with
        ``q_query_local`` also ``contrastive_thought`` and ``contrastive_query``; with ``decision_sum`` also
        ``decision`` (the global mean) and ``decisions`` (their count). Summing the workers' gradients of the first
        value gives the gradient of the logged global ``loss``.
    """
    q = gather_with_grad(q_local)  # (n_q_global, dim)
    p = gather_with_grad(p_local)  # (n_p_global, dim)
    nce = info_nce(q, p, targets, temperature, mask)
    extra: dict[str, float] = {}
    if q_query_local is not None:
        q_query = gather_with_grad(q_query_local)  # (n_q_global, dim)
        nce_query = info_nce(q_query, p, targets, temperature, mask)
        extra = {"contrastive_thought": float(nce.detach()), "contrastive_query": float(nce_query.detach())}
        nce = (1.0 - query_weight) * nce + query_weight * nce_query
    total_tokens = int(all_reduce_sum(torch.tensor(float(lm_count), device=q_local.device)).item())
    lm = lm_sum / max(total_tokens, 1)  # this worker's share of the global mean
    _, size = world()
    # Every worker holds the full global InfoNCE but the graph of its own slice only, so its backward yields exactly
    # its slice's share of the global gradient; all_reduce_gradients sums the shares. No rescaling by world size.
    loss = contrastive_weight * nce + (1.0 - contrastive_weight) * lm
    lm_global = float(all_reduce_sum(lm.detach()).item())
    logged = contrastive_weight * float(nce.detach()) + (1.0 - contrastive_weight) * lm_global
    if decision_sum is not None:
        decisions = int(all_reduce_sum(torch.tensor(float(decision_count), device=q_local.device)).item())
        decision = decision_sum / max(decisions, 1)  # this worker's share of the global mean
        loss = loss + decision_weight * decision
        decision_global = float(all_reduce_sum(decision.detach()).item())
        logged += decision_weight * decision_global
        extra |= {"decision": decision_global, "decisions": decisions}
    stats = {
        "loss": logged,
        "contrastive": float(nce.detach()),
        "lm": lm_global,
        "thought_tokens": total_tokens,
        "world_size": size,
        **extra,
    }
    return loss, stats
