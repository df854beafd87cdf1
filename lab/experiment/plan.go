package experiment

import (
	"errors"
	"fmt"
	"strconv"

	"sharpflat/lab/train"
)

// Plan is the full list of runs of an experiment: groups of arms that share a warm-up.
type Plan struct {
	Experiment string  `json:"experiment"`
	Groups     []Group `json:"groups"`
}

// Group trains one network (its Config, its seed) for Warmup steps; each of its Arms then
// starts from that same point: the same θ, optimizer state, eigenspace and minibatch order,
// with the arm's settings in force from the switch. Warmup 0 starts every arm from the
// initialisation. This is the protocol of Song, Ahn & Yun (ICLR 2025): train with SGD, then
// switch to Dom-SGD or Bulk-SGD from the same point.
type Group struct {
	Name   string       `json:"name"`
	Config train.Config `json:"config"` // the warm-up's settings
	Warmup int          `json:"warmup"`
	// Probe > 0 measures the top-Probe Hessian eigenvalues at the switch point.
	Probe int `json:"probe,omitempty"`
	// BulkTop computes λ_{k+1} at every refresh of the warm-up and the arms, as the lab does
	// (Trainer.SetExtraPair): the metrics gain bulk_top, and the arms are then bit for bit
	// those of a race in the lab from the same checkpoint. Off, refreshes solve for the top k
	// alone (the extra pair moves them within the solver's tolerance).
	BulkTop bool  `json:"bulk_top,omitempty"`
	Arms    []Arm `json:"arms"`
}

// Arm is one branch of a group: the settings in force after the switch, and its length.
type Arm struct {
	Name   string       `json:"name"` // directory name under runs/GROUP/
	Steps  int          `json:"steps"`
	Config train.Config `json:"config"` // differs from the group's only in what Trainer.Apply may change
	// Probe > 0 measures the top-Probe Hessian eigenvalues at the arm's last θ (cold Lanczos
	// on the Hessian set), e.g. to see λ_{k+1} next to 2/η.
	Probe int `json:"probe,omitempty"`
	// DensityAt lists the steps after the switch (0: the switch itself) at which the
	// spectral density of H is estimated, with the exact top of the spectrum beside it,
	// into the arm's density.json (experiment curvature).
	DensityAt []int `json:"density_at,omitempty"`
}

// ArmOf returns an arm that keeps every setting of the group's config.
func (g *Group) ArmOf(name string, steps int) Arm {
	c := g.Config
	c.Hidden = append([]int(nil), c.Hidden...)
	return Arm{Name: name, Steps: steps, Config: c}
}

// Unit is one arm of a plan as a unit of work: its stable id ("GROUP/ARM") and its index in
// plan order (what a job array's task index selects).
type Unit struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Group string `json:"group"`
	Arm   string `json:"arm"`
	Steps int    `json:"steps"` // the arm's steps, after the group's warm-up
	Warm  int    `json:"warmup"`
	g     *Group
	a     *Arm
}

// Units lists the arms in plan order.
func (p *Plan) Units() []Unit {
	var us []Unit
	for gi := range p.Groups {
		g := &p.Groups[gi]
		for ai := range g.Arms {
			a := &g.Arms[ai]
			us = append(us, Unit{Index: len(us), ID: g.Name + "/" + a.Name, Group: g.Name, Arm: a.Name, Steps: a.Steps, Warm: g.Warmup, g: g, a: a})
		}
	}
	return us
}

// Unit finds an arm by its id ("GROUP/ARM") or its index.
func (p *Plan) Unit(idOrIndex string) (Unit, error) {
	us := p.Units()
	if i, err := strconv.Atoi(idOrIndex); err == nil {
		if i < 0 || i >= len(us) {
			return Unit{}, fmt.Errorf("arm index %d out of range: the plan has arms 0…%d", i, len(us)-1)
		}
		return us[i], nil
	}
	for _, u := range us {
		if u.ID == idOrIndex {
			return u, nil
		}
	}
	return Unit{}, fmt.Errorf("no arm %q in the plan (--plan lists them)", idOrIndex)
}

// Validate checks the plan: configs, names, step counts, and that each arm changes only what
// may change after a warm-up.
func (p *Plan) Validate() error {
	if len(p.Groups) == 0 {
		return errors.New("experiment plan has no runs")
	}
	seen := map[string]bool{}
	for i := range p.Groups {
		g := &p.Groups[i]
		if !validName(g.Name) || seen[g.Name] {
			return fmt.Errorf("group %q: empty, duplicate or not a plain directory name", g.Name)
		}
		seen[g.Name] = true
		if g.Warmup < 0 {
			return fmt.Errorf("group %s: warm-up %d steps, want ≥ 0", g.Name, g.Warmup)
		}
		if err := g.Config.Validate(); err != nil {
			return fmt.Errorf("group %s: %v", g.Name, err)
		}
		arms := map[string]bool{"warmup": true}
		for j := range g.Arms {
			a := &g.Arms[j]
			if !validName(a.Name) || arms[a.Name] {
				return fmt.Errorf("group %s: arm %q: empty, duplicate or not a plain directory name", g.Name, a.Name)
			}
			arms[a.Name] = true
			if a.Steps < 1 {
				return fmt.Errorf("arm %s/%s: %d steps, want ≥ 1", g.Name, a.Name, a.Steps)
			}
			if err := a.Config.Validate(); err != nil {
				return fmt.Errorf("arm %s/%s: %v", g.Name, a.Name, err)
			}
			for _, st := range a.DensityAt {
				if st < 0 || st > a.Steps {
					return fmt.Errorf("arm %s/%s: a density at step %d, want 0…%d (the arm's steps)", g.Name, a.Name, st, a.Steps)
				}
			}
		}
		if len(g.Arms) == 0 {
			return fmt.Errorf("group %s has no arms", g.Name)
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == '=') {
			return false
		}
	}
	return true
}
