// pipelab/schedule/p2p.h — deadlock freedom under a stated point-to-point (p2p) model.
//
// validate() proves a schedule deadlock-free with non-blocking sends, which is what
// pipelab's own executor does (its mailbox never blocks a sender). A port to another
// runtime inherits that runtime's p2p semantics; deadlock_problem() simulates the
// stages' programs under the model named here (docs/p2p.md draws each one):
//
//   async    a send completes at once (buffered); a receive completes once its send has
//            run. pipelab's executor and its sim, cpu and cuda peer-copy transports.
//   batched  a maximal run of consecutive Send*/Recv* actions in a stage's program is
//            one batch: the stage posts all of them when it reaches the first, and the
//            batch completes (the stage moves past its last action) once the partner of
//            every action in it has been posted. PyTorch's batch_isend_irecv + wait,
//            Megatron's p2p ops, NCCL send/recv inside ncclGroupStart/End.
//   blocking rendezvous: every send and every receive is a batch of its own, so a send
//            completes only when its receiver has reached the matching receive, and both
//            block at the pair until then. NCCL send/recv outside a group, MPI_Ssend.
//
// Under every model a send to a chunk on the sender's own device (zbv's hand-over at the
// bottom of its V) is a local copy and completes at once, as PyTorch hands a tensor
// between two stages of one rank. Compute actions (F, B, R, OptimizerStep) never wait. Posting only ever grows, so a
// stage that can complete its current action can still complete it after any other
// stage moves: the outcome (finished, or the one stuck state) does not depend on the
// order in which stages are simulated.
#pragma once

#include <string>

#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// How a send and its receive synchronize (--p2p).
enum class P2pModel { Async, Batched, Blocking };

/// "async", "batched" or "blocking".
const char* to_string(P2pModel model);
/// "async" | "batched" | "blocking" (throws UsageError("--p2p") on anything else).
P2pModel p2p_model_from_string(const std::string& name);

/// "" when every stage of `schedule` reaches the end of its program under `model`; else
/// "deadlock under <model> p2p: " naming every blocked stage, the action (or batch) it is
/// blocked at with its 0-based position, and the partner it waits for. Meant for a
/// schedule validate() accepts; a send or receive without a partner simply never completes.
std::string deadlock_problem(const Schedule& schedule, P2pModel model);

/// What to do about a deadlock under `model` (the hint validate(schedule, model) throws).
std::string deadlock_hint(P2pModel model);

}  // namespace pipelab
