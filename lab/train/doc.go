// Package train is sharpflat's training loop as a plain synchronous object: a Trainer owns a
// network, its parameters θ, the optimizer, the minibatch order and the Dominant eigenspace
// of the loss Hessian, and Step runs one step and returns its Metrics. One driver, Drive
// (with Round for a caller that interleaves its own work between rounds), owns the loop
// around Step for headless runs, experiment arms, lessons and the lab's Engine: the
// until-condition, the recorder, divergence and cancellation, for one trainer or several in
// lockstep (a race). A Trainer starts no goroutine (nn splits each pass across cores inside
// the call); Drive, Round and Parallel step the trainers of a race on goroutines of their
// own, all at once, and record them in order. Nothing here reads a command
// line.
//
// The update rule is a type (Rule): the blend d = w_dom P_dom g + w_bulk P_bulk g of
// (w_dom, w_bulk) is one, Dom-damped another.
//
// # The step
//
// With g the minibatch gradient, V = [v₁ … v_k] the top-k eigenvectors of the Hessian H of
// the loss on the Hessian set S, P_dom = V Vᵀ and P_bulk = I − V Vᵀ,
//
//	d = w_dom P_dom g + w_bulk P_bulk g        (SGD (1,1), Dom-SGD (1,0), Bulk-SGD (0,1))
//	θ ← θ − η d                                (through heavy-ball momentum or Adam)
//	χ = ‖P_dom g‖/‖g‖                          (alignment of g with the Dominant subspace)
//
// V is recomputed every T steps (or on request) by a Lanczos run warm-started from the
// previous basis; λ₁ is the sharpness, to compare with the stability threshold 2/η
// ((2+2β)/η with momentum). docs/SCIENCE.md defines every quantity and its formula.
//
// # Settings
//
// Config holds every setting of a run, each described once in its struct tags (flag name,
// help, allowed interval); Fields exposes that table to command lines and JSON overrides.
// Presets fill a Config; Apply changes the settings that may change during a run.
//
// # Determinism and checkpoints
//
// The same Config gives bit-identical metrics (wall-clock fields aside) on any number of
// cores. A Checkpoint holds the whole training state; Rollback and Restore continue from it
// exactly.
//
// Package train imports nn and linalg only (besides the standard library and gonum); it must
// not import the lab's engine, the experiments or any terminal package.
package train
