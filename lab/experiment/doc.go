// Package experiment runs sharpflat's reproducible experiments: families of headless runs
// that share a starting point, with a report (summary.csv, PNG figures, report.md) that
// checks the claims of docs/SCIENCE.md against what was measured.
//
// An Experiment plans its runs as Groups: a group trains one network for a warm-up, and each
// of its Arms continues from the same checkpoint with other settings (Dom-SGD, Bulk-SGD, …).
// Every arm is an independent, idempotent unit of work (RunArm): run on this machine by Run,
// jobs at a time, or by a cluster scheduler as a job array (Emit writes the Slurm or
// Kubernetes files), the experiment directory being the only coordination. Report builds the
// report from whatever arms are finished. Arms drive a train.Trainer directly, one Step at a
// time; nothing waits on a clock.
//
// All lists the experiments, in the order of the docs: switch, alpha, stability, curvature,
// eos.
//
// Package experiment imports lab/train, lab/rundir, nn and gonum's plot; it must not import
// the lab's engine (package lab) or any terminal package, and nn and linalg never import it.
package experiment
