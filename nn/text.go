package nn

// Text forms of the named choices, so that a configuration holding them reads and writes
// them by name ("tanh", "ce", "pytorch") in JSON and on command lines, and an unknown name is
// refused when it is read.

// MarshalText writes the activation's name.
func (a Activation) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an activation's name (ParseActivation).
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	if err == nil {
		*a = v
	}
	return err
}

// MarshalText writes the loss's name.
func (l Loss) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a loss's name (ParseLoss).
func (l *Loss) UnmarshalText(b []byte) error {
	v, err := ParseLoss(string(b))
	if err == nil {
		*l = v
	}
	return err
}

// String is the scheme's name: "pytorch" or "normal".
func (s InitScheme) String() string {
	switch s {
	case InitPyTorch:
		return "pytorch"
	case InitNormal:
		return "normal"
	}
	return "InitScheme(?)"
}

// MarshalText writes the scheme's name.
func (s InitScheme) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a scheme's name (ParseInit).
func (s *InitScheme) UnmarshalText(b []byte) error {
	v, err := ParseInit(string(b))
	if err == nil {
		*s = v
	}
	return err
}
