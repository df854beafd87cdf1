// Package rundir writes and reads run directories, the files a training run leaves behind:
//
//	config.json          the train.Config of the run
//	metrics.jsonl        one train.Metrics object per step (field names: README "metrics.jsonl")
//	metrics.csv          the same, scalar fields only, plus the spectrum as "λ₁ λ₂ …"
//	events.jsonl         one train.Event per line
//	weights.safetensors  θ at the last completed step (PyTorch nn.Linear layout)
//	resume.bin           the resume checkpoint, with its checksum and its config fingerprint (resume.go)
//
// A run first claims its directory (claim.go: created or empty, and locked), so two runs
// never write one directory and a user's files are never overwritten. A Writer records a
// run as it goes, whole lines at a time; Resume continues one from its checkpoint;
// ReadMetrics reads one back, tolerating a last line cut short. Files that must never be
// seen half-written (config.json, weights, resume.bin) are written to a temporary file,
// synced and renamed into place.
//
// Package rundir imports train and nn; it must not import the lab's engine, the experiments
// or any terminal package.
package rundir
