package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// runData is `sharpflat data export`: the exact training, test and Hessian sets a run
// uses, as CSV, so that a run can be reproduced in another framework.
func runData(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, summaries["data"]+`

Usage:
  sharpflat data export [--preset NAME] [--data …] [--n N] [--seed S] [--test-frac F] --out DIR

'sharpflat data export --help' lists the flags.
`)
		return nil
	}
	if args[0] != "export" {
		return usagef("data: unknown subcommand %q (want export)", args[0])
	}
	fs := newFlags("data", "export [--preset NAME] [--data …] [--n N] [--seed S] --out DIR", stdout, stderr)
	build := configFlags(fs)
	out := fs.String("out", "", "directory to write train.csv, test.csv and hessian_set.csv to (created, or empty) [required]")
	if err := parseFlags(fs, args[1:], stdout); err != nil {
		return err
	}
	if *out == "" {
		return usagef("data export: --out DIR is required")
	}
	cfg, err := build()
	if err != nil {
		return usagef("data export: %v", err)
	}
	tr, te, hs, err := train.RunData(&cfg)
	if err != nil {
		return err
	}
	c, err := rundir.ClaimNew(*out)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		d    *nn.Dataset
	}{{"train.csv", &tr}, {"test.csv", &te}, {"hessian_set.csv", &hs}} {
		if err := writeCSVFile(filepath.Join(*out, f.name), f.d); err != nil {
			c.Abandon()
			return err
		}
		fmt.Fprintf(stdout, "%s  %d examples × %d features\n", filepath.Join(*out, f.name), f.d.N, f.d.D)
	}
	c.Release()
	return nil
}

func writeCSVFile(path string, d *nn.Dataset) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := nn.WriteCSV(f, *d); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
