package experiment

// Sweeps on a cluster: every arm is an idempotent unit of work (RunArm), so an existing
// scheduler can run them as a job array, with the shared experiment directory as the only
// coordination, and a last job builds the report.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// Cluster is a scheduler Emit writes jobs for.
type Cluster int

const (
	Slurm      Cluster = iota // a job array (sbatch --array) and a dependent report job
	Kubernetes                // an Indexed Job, then a report Job
)

// ParseCluster reads "slurm" or "k8s".
func ParseCluster(s string) (Cluster, error) {
	switch s {
	case "slurm":
		return Slurm, nil
	case "k8s", "kubernetes":
		return Kubernetes, nil
	}
	return 0, fmt.Errorf("--emit %q: want slurm or k8s", s)
}

// EmitOptions are what the jobs run.
type EmitOptions struct {
	// Binary is the sharpflat executable on the cluster's nodes (an absolute path for Slurm;
	// the command in the image for Kubernetes).
	Binary string
	// Args are the arguments that plan this experiment (the name, the settings, --out DIR
	// with DIR absolute), without --arm or --report.
	Args []string
	// Dir is the experiment directory (absolute, on storage every node shares).
	Dir string
}

// Emit plans the experiment, records the plan in opts.Dir, and writes the job files for the
// scheduler there (DIR/slurm/ or DIR/k8s/). It returns the files written and a note saying
// how to submit them.
func (x *Experiment) Emit(c Cluster, base train.Config, s Sweep, opts EmitOptions) (files []string, how string, err error) {
	plan, _, err := x.Plan(base, s)
	if err != nil {
		return nil, "", err
	}
	if !filepath.IsAbs(opts.Dir) {
		return nil, "", fmt.Errorf("--emit needs an absolute --out (the jobs run elsewhere): %s", opts.Dir)
	}
	if err := claimDir(opts.Dir, &plan); err != nil {
		return nil, "", err
	}
	n := len(plan.Units())
	var out map[string]string
	switch c {
	case Slurm:
		out, how = slurmFiles(x.Name, n, opts)
	default:
		out, how = k8sFiles(x.Name, n, opts)
	}
	for name, body := range out {
		path := filepath.Join(opts.Dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, "", err
		}
		if err := rundir.WriteFileAtomic(path, []byte(body)); err != nil {
			return nil, "", err
		}
		if strings.HasSuffix(name, ".sh") || strings.HasSuffix(name, ".sbatch") {
			if err := os.Chmod(path, 0o755); err != nil {
				return nil, "", err
			}
		}
		files = append(files, path)
	}
	sort.Strings(files)
	return files, how, nil
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = train.ShellQuote(a)
	}
	return strings.Join(q, " ")
}

func slurmFiles(name string, n int, o EmitOptions) (map[string]string, string) {
	dir := filepath.Join(o.Dir, "slurm")
	args := shellJoin(o.Args)
	arms := fmt.Sprintf(`#!/bin/bash
# sharpflat experiment %[1]s: %[2]d arms as a Slurm job array, one arm a task. A task that is
# rerun skips its arm if it is finished, and redoes it if it was killed; tasks coordinate only
# through the experiment directory %[3]s.
#SBATCH --job-name=sharpflat-%[1]s-arms
#SBATCH --array=0-%[4]d
#SBATCH --cpus-per-task=2
#SBATCH --output=%[5]s/arm-%%a.out
set -euo pipefail
SHARPFLAT=${SHARPFLAT:-%[6]s}
exec "$SHARPFLAT" %[7]s --arm "${SLURM_ARRAY_TASK_ID:?run this script with sbatch (submit.sh)}"
`, name, n, o.Dir, n-1, train.ShellQuote(dir), train.ShellQuote(o.Binary), args)
	report := fmt.Sprintf(`#!/bin/bash
# sharpflat experiment %[1]s: the report (summary.csv, figures, report.md) from the finished
# arms, after the job array.
#SBATCH --job-name=sharpflat-%[1]s-report
#SBATCH --cpus-per-task=1
#SBATCH --output=%[2]s/report.out
set -euo pipefail
SHARPFLAT=${SHARPFLAT:-%[3]s}
exec "$SHARPFLAT" %[4]s --report
`, name, train.ShellQuote(dir), train.ShellQuote(o.Binary), args)
	submit := fmt.Sprintf(`#!/bin/bash
# Submits the %[1]d arms of sharpflat experiment %[2]s as a job array, and the report as a job
# that starts when every arm has succeeded. Prints the two job ids.
set -euo pipefail
cd %[3]s
arms=$(sbatch --parsable arms.sbatch)
arms=${arms%%%%;*}
report=$(sbatch --parsable --dependency=afterok:"$arms" report.sbatch)
echo "arms: job $arms (array of %[1]d); report: job ${report%%%%;*}"
`, n, name, train.ShellQuote(dir))
	how := fmt.Sprintf("submit with: %s/submit.sh   (set SHARPFLAT to the binary's path on the nodes if it differs from %s)", dir, o.Binary)
	return map[string]string{"slurm/arms.sbatch": arms, "slurm/report.sbatch": report, "slurm/submit.sh": submit}, how
}

func yamlList(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func k8sFiles(name string, n int, o EmitOptions) (map[string]string, string) {
	job := "sharpflat-" + strings.ToLower(name)
	bin := o.Binary
	if bin == "" {
		bin = "sharpflat"
	}
	head := fmt.Sprintf(`# sharpflat experiment %[1]s on Kubernetes. The image must hold the sharpflat binary as
# %[2]s, and the experiment directory %[3]s must be the same path in every pod: the
# volume "data" below (edit claimName) is mounted at its parent. Apply arms.yaml, wait for it,
# then apply report.yaml:
#   kubectl apply -f arms.yaml
#   kubectl wait --for=condition=complete --timeout=72h job/%[4]s-arms
#   kubectl apply -f report.yaml
`, name, bin, o.Dir, job)
	pod := func(container string, args []string, cpu string) string {
		return fmt.Sprintf(`  template:
    spec:
      restartPolicy: Never
      containers:
        - name: %s
          image: sharpflat:latest
          command: %s
          resources:
            requests:
              cpu: "%s"
              memory: 1Gi
          volumeMounts:
            - name: data
              mountPath: %q
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: sharpflat-data
`, container, yamlList(append([]string{bin}, args...)), cpu, filepath.Dir(o.Dir))
	}
	arms := head + fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s-arms
spec:
  completionMode: Indexed
  completions: %d
  parallelism: %d
  backoffLimit: %d
`, job, n, min(n, 16), 2*n) + pod("arm", append(append([]string(nil), o.Args...), "--arm", "$(JOB_COMPLETION_INDEX)"), "2")
	report := head + fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s-report
spec:
  backoffLimit: 2
`, job) + pod("report", append(append([]string(nil), o.Args...), "--report"), "1")
	how := fmt.Sprintf("apply with: kubectl apply -f %s/k8s/arms.yaml, wait, then kubectl apply -f %s/k8s/report.yaml (instructions in the files)", o.Dir, o.Dir)
	return map[string]string{"k8s/arms.yaml": arms, "k8s/report.yaml": report}, how
}
