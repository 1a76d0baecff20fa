// Package analysis answers what a PromQL expression returns without running
// it: the labels its result series carry, the range of its values, and the
// metrics it reads. The build's join proof and the lint checks ask it, so
// they cannot disagree about PromQL.
package analysis
