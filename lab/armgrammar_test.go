package lab

import (
	"testing"

	"sharpflat/lab/lesson"
)

// A lesson's arms (lesson.CanonicalArm, which cannot import lab) and the lab's (ParseArm and
// ArmSpec.String) are two readers of one grammar: they must accept the same strings and
// write them the same way, or a lesson's claim on train_loss@ARM would name no arm.
func TestLessonAndLabReadArmsAlike(t *testing.T) {
	for _, s := range []string{
		"dom", "sgd", "bulk", "alpha=0", "alpha=0.5", "alpha=1", "alpha=0.25", "alpha=0.3",
		"w=0.5/1", "w=1/0", "w=2/0.3", "dom-damped", "dom-damped=0.5", "dom-damped=1",
		"sgd:lr*2", "bulk:lr*0.5", "bulk:k=20", "bulk:m=0.9", "bulk:k=20:m=0.9", "sgd:lr*1",
		"dom:lr*1.5:k=3:m=0", "w=0.25/1:lr*2",
		// refused by both
		"", "nope", "alpha=2", "w=1", "sgd:lr*0", "sgd:k=0", "sgd:m=1", "sgd:x=1", "sgd:lr*-1",
		"bulk:k=20:k=30", "dom-damped=0", "dom-damped=-1", "sgd:", ":lr*2",
	} {
		spec, labErr := ParseArm(s)
		canon, lessonErr := lesson.CanonicalArm(s)
		switch {
		case (labErr == nil) != (lessonErr == nil):
			t.Errorf("%q: the lab says %v, a lesson says %v", s, labErr, lessonErr)
		case labErr == nil && spec.String() != canon:
			t.Errorf("%q: the lab writes %q, a lesson %q", s, spec.String(), canon)
		}
	}
}
