// Package train is sharpflat's training loop as a plain synchronous object: a Trainer owns a
// network, its parameters θ, the optimizer, the minibatch order and the Dominant eigenspace
// of the loss Hessian, and Step runs one step and returns its Metrics. Headless runs,
// experiment arms and the lab's Engine all drive the same Trainer; nothing here starts a
// goroutine (nn splits each pass across cores inside the call) or reads a command line.
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
