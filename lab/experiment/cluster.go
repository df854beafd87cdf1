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
	return 0, fmt.Errorf("cluster %q: want slurm or k8s", s)
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
// how to submit them. A value that a script or manifest cannot carry (a line break, any
// other control character) is refused with an *UnsafeValueError before anything is written.
func (x *Experiment) Emit(c Cluster, base train.Config, s Sweep, opts EmitOptions) (files []string, how string, err error) {
	plan, _, err := x.Plan(base, s)
	if err != nil {
		return nil, "", err
	}
	if !filepath.IsAbs(opts.Dir) {
		return nil, "", fmt.Errorf("the jobs run elsewhere, so the experiment directory must be absolute: %s", opts.Dir)
	}
	out, how, err := jobFiles(c, x.Name, len(plan.Units()), opts)
	if err != nil {
		return nil, "", err
	}
	if err := claimDir(opts.Dir, &plan); err != nil {
		return nil, "", err
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

// jobFiles checks the options and renders the job files of cluster c for an experiment of n
// arms: file name (under the experiment directory) → content.
func jobFiles(c Cluster, name string, n int, opts EmitOptions) (map[string]string, string, error) {
	if err := opts.check(c); err != nil {
		return nil, "", err
	}
	// Names are ours (switch, alpha, …), and name jobs: lower-case letters, digits and '-'.
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) >= 0 {
		return nil, "", fmt.Errorf("experiment name %q cannot name a job", name)
	}
	if c == Slurm {
		out, how := slurmFiles(name, n, opts)
		return out, how, nil
	}
	out, how := k8sFiles(name, n, opts)
	return out, how, nil
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = train.ShellQuote(a)
	}
	return strings.Join(q, " ")
}

// slurmFiles writes the job array, the report job and submit.sh. The report job depends on
// the array with afterany, so it runs however the tasks ended: it names the arms that are
// missing and fails while any are (afterok would leave it pending for ever once a task
// failed). Each task's log is named by the array's job id and the index (%A_%a), so the log
// of a rerun task does not overwrite the failed attempt's.
func slurmFiles(name string, n int, o EmitOptions) (map[string]string, string) {
	dir := filepath.Join(o.Dir, "slurm")
	args := shellJoin(o.Args)
	arms := fmt.Sprintf(`#!/bin/bash
# sharpflat experiment %[1]s: %[2]d arms as a Slurm job array, one arm a task. A task that is
# rerun skips its arm if it is finished, and redoes it if it was killed; tasks coordinate only
# through the experiment directory (--out below).
# One arm again: sbatch --array=INDEX arms.sbatch (logs: arm-JOBID_INDEX.out).
#SBATCH --job-name=sharpflat-%[1]s-arms
#SBATCH --array=0-%[3]d
#SBATCH --cpus-per-task=2
#SBATCH --output=%[4]s
set -euo pipefail
SHARPFLAT=${SHARPFLAT:-%[5]s}
exec "$SHARPFLAT" %[6]s --arm "${SLURM_ARRAY_TASK_ID:?run this script with sbatch (submit.sh)}"
`, name, n, n-1, slurmQuote(slurmPattern(dir)+"/arm-%A_%a.out"), train.ShellQuote(o.Binary), args)
	report := fmt.Sprintf(`#!/bin/bash
# sharpflat experiment %[1]s: the report (summary.csv, figures, report.md) from the finished
# arms, after the job array however its tasks ended. It names the missing arms and fails
# while any are.
#SBATCH --job-name=sharpflat-%[1]s-report
#SBATCH --cpus-per-task=1
#SBATCH --output=%[2]s
set -euo pipefail
SHARPFLAT=${SHARPFLAT:-%[3]s}
exec "$SHARPFLAT" %[4]s --report
`, name, slurmQuote(slurmPattern(dir)+"/report-%j.out"), train.ShellQuote(o.Binary), args)
	submit := fmt.Sprintf(`#!/bin/bash
# Submits the %[1]d arms of sharpflat experiment %[2]s as a job array, and the report as a job
# that starts when every task has ended (afterany). Prints the two job ids. Running it again
# is safe: finished arms are skipped, and the report is rebuilt.
set -euo pipefail
cd %[3]s
arms=$(sbatch --parsable arms.sbatch)
arms=${arms%%%%;*}
report=$(sbatch --parsable --dependency=afterany:"$arms" report.sbatch)
echo "arms: job $arms (array of %[1]d); report: job ${report%%%%;*}"
`, n, name, train.ShellQuote(dir))
	how := fmt.Sprintf("submit with: %s/submit.sh   (set SHARPFLAT to the binary's path on the nodes if it differs from %s)", train.ShellQuote(dir), train.ShellQuote(o.Binary))
	return map[string]string{"slurm/arms.sbatch": arms, "slurm/report.sbatch": report, "slurm/submit.sh": submit}, how
}

// yamlList writes a container's command: each value quoted with its $ doubled (k8sLiteral),
// then the values of ours that Kubernetes is to expand.
func yamlList(args []string, expanded ...string) string {
	q := make([]string, 0, len(args)+len(expanded))
	for _, a := range args {
		q = append(q, yamlQuote(k8sLiteral(a)))
	}
	for _, a := range expanded {
		q = append(q, yamlQuote(a))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// completionIndex is the arm's index in an Indexed Job's pod, expanded by Kubernetes.
const completionIndex = "$(JOB_COMPLETION_INDEX)"

func k8sFiles(name string, n int, o EmitOptions) (map[string]string, string) {
	job := "sharpflat-" + strings.ToLower(name)
	bin := o.Binary
	if bin == "" {
		bin = "sharpflat"
	}
	// No value of the options goes into a comment: a comment cannot quote, so the paths are
	// named only in quoted scalars (the command and mountPath).
	head := fmt.Sprintf(`# sharpflat experiment %[1]s on Kubernetes. The image must hold the sharpflat binary as the
# first value of command below, and the experiment directory (its --out) must be the same
# path in every pod: the volume "data" below (edit claimName) is mounted at its parent
# (mountPath). Apply arms.yaml, wait for it, then apply report.yaml:
#   kubectl apply -f arms.yaml
#   kubectl wait --for=condition=complete --timeout=72h job/%[2]s-arms
#   kubectl apply -f report.yaml
`, name, job)
	pod := func(container, cmd, cpu string) string {
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
              mountPath: %s
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: sharpflat-data
`, container, cmd, cpu, yamlQuote(filepath.Dir(o.Dir)))
	}
	command := append([]string{bin}, o.Args...)
	arms := head + fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s-arms
spec:
  completionMode: Indexed
  completions: %d
  parallelism: %d
  backoffLimit: %d
`, job, n, min(n, 16), 2*n) + pod("arm", yamlList(append(command[:len(command):len(command)], "--arm"), completionIndex), "2")
	report := head + fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s-report
spec:
  backoffLimit: 2
`, job) + pod("report", yamlList(append(command[:len(command):len(command)], "--report")), "1")
	how := fmt.Sprintf("apply with: kubectl apply -f %s, wait, then kubectl apply -f %s (instructions in the files)",
		train.ShellQuote(filepath.Join(o.Dir, "k8s", "arms.yaml")), train.ShellQuote(filepath.Join(o.Dir, "k8s", "report.yaml")))
	return map[string]string{"k8s/arms.yaml": arms, "k8s/report.yaml": report}, how
}
