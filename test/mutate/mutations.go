package main

// mutations are plausible bugs, each of which some test must catch. Each is
// planted alone in a scratch copy of the tree, and only the packages and
// tests it names are run. Add one for every bug found that a test did not
// catch, with the test that now does (docs/testing.md says how).
//
// Keep them on code that is stable: a mutation whose Original no longer
// occurs exactly once fails `make mutate` until it is brought up to date.
var mutations = []mutation{
	// Exporter: counting exits.
	{
		Name:     "settle counts a held die again after a late oom counted it",
		File:     "internal/exporter/cache/termination.go",
		Original: "\tif !t.counted {\n\t\tc.count(t.owner, t)",
		Mutant:   "\tif true {\n\t\tc.count(t.owner, t)",
		Packages: []string{"./internal/exporter/cache"},
		Run:      "^TestCache$",
	},
	{
		Name:     "a late oom event is matched to a die however far apart",
		File:     "internal/exporter/cache/termination.go",
		Original: "if at.Sub(t.time).Abs() < sameExit {",
		Mutant:   "if at.Sub(t.time).Abs() >= 0 {",
		Packages: []string{"./internal/exporter/cache"},
		Run:      "^TestCache$",
	},
	{
		Name:     "a die event confirming an inspect counts the exit again",
		File:     "internal/exporter/cache/termination.go",
		Original: "\t\t\tif !l.counted {\n\t\t\t\tc.count(e, l)\n\t\t\t}",
		Mutant:   "\t\t\tc.count(e, l)",
		Packages: []string{"./internal/exporter/cache"},
		Run:      "^TestCache$",
	},
	{
		Name:     "a SIGKILL is not held back for a late oom event",
		File:     "internal/exporter/cache/termination.go",
		Original: "hold := code == 137 && !oom && c.opts.OOMGrace > 0",
		Mutant:   "hold := false",
		Packages: []string{"./internal/exporter/cache"},
		Run:      "^TestCache$",
	},
	{
		Name:     "a recreated container does not take over the removed one's exit counts",
		File:     "internal/exporter/cache/identity.go",
		Original: "\t\te.exits[i] += old.exits[i]",
		Mutant:   "\t\t_ = old.exits[i]",
		Packages: []string{"./internal/exporter/cache"},
		Run:      "^TestCache$",
	},
	{
		Name:     "an adopted container's entry is kept: one entry per container, not per name",
		File:     "internal/exporter/cache/identity.go",
		Original: "\tdelete(c.removed, e.key)\n\tdelete(c.entries, id)\n",
		Mutant:   "\tdelete(c.removed, e.key)\n",
		Packages: []string{"./internal/exporter/cache"},
		Run:      "^TestChurnKeepsOneEntryPerName$",
	},

	// Alertmanager: inhibitions and routes.
	{
		Name:     "CheckInhibitions never looks at the target alerts",
		File:     "internal/alertmanager/inhibit.go",
		Original: "isSource, isTarget := a.Name == in.Source, slices.Contains(in.Targets, a.Name)",
		Mutant:   "isSource, isTarget := a.Name == in.Source, false && slices.Contains(in.Targets, a.Name)",
		Packages: []string{"./internal/alertmanager"},
		Run:      "^TestAnInhibitionOnALabel",
	},
	{
		Name:     "CheckInhibitions takes the source to carry every equal label",
		File:     "internal/alertmanager/inhibit.go",
		Original: "\t\t\t\t_, inA := a[l]\n",
		Mutant:   "\t\t\t\tinA := true\n",
		Packages: []string{"./internal/alertmanager"},
		Run:      "^TestAnInhibitionOnALabel",
	},
	{
		Name:     "the next-to-last receiver of a severity does not continue to the last",
		File:     "internal/alertmanager/alertmanager.go",
		Original: "Continue:       i < len(names)-1,",
		Mutant:   "Continue:       i < len(names)-2,",
		Packages: []string{"./internal/alertmanager"},
		Run:      "^TestRoutingFollowsThePolicy$",
	},

	// Atomic write.
	{
		Name:     "a successful build leaves the old output folder beside the new one",
		File:     "internal/generate/write.go",
		Original: "\tif old != \"\" {\n\t\treturn removeAll(old)\n\t}\n\treturn nil",
		Mutant:   "\treturn nil",
		Packages: []string{"./internal/generate"},
		Run:      "^TestWriteLeavesNothingBesideRoot$",
	},
	{
		Name:     "a failed build leaves its temporary folder behind",
		File:     "internal/generate/write.go",
		Original: "\t\tif err != nil {\n\t\t\tos.RemoveAll(tmp)\n\t\t}",
		Mutant:   "\t\t_ = tmp",
		Packages: []string{"./internal/generate"},
		Run:      "^TestWriteLeavesRootUntouchedWhenItFails$",
	},

	// Join keys, as every diagnostic join is built.
	{
		Name:     "a diagnostic join drops its last key",
		File:     "spec/promql.go",
		Original: "return binary(parser.MUL, lhs, rhs, matching(parser.CardManyToOne, on, include))",
		Mutant:   "return binary(parser.MUL, lhs, rhs, matching(parser.CardManyToOne, on[:len(on)-1], include))",
		Packages: []string{"./internal/generate"},
		Run:      "^TestBuildMatchesGoldenFiles$",
	},

	// Spec validation.
	{
		Name:     "a negative for passes validation: the check reads keep_firing_for twice",
		File:     "spec/validate.go",
		Original: "\tif a.For < 0 {\n\t\tat(\"for\"",
		Mutant:   "\tif a.KeepFiringFor < 0 {\n\t\tat(\"for\"",
		Packages: []string{"./spec"},
		Run:      "^TestValidate$",
	},
	{
		Name:     "a memory reservation above the limit passes validation",
		File:     "spec/validate.go",
		Original: "if m.Limit > 0 && m.Reservation > m.Limit {",
		Mutant:   "if m.Limit > 0 && m.Reservation > 2*m.Limit {",
		Packages: []string{"./spec"},
		Run:      "^TestValidate$",
	},
	{
		Name:     "an inhibition not equal on service passes validation",
		File:     "spec/routing.go",
		Original: "if perService && !slices.Contains(in.Equal, conventions.LabelService) {",
		Mutant:   "if !perService && !slices.Contains(in.Equal, conventions.LabelService) {",
		Packages: []string{"./spec"},
		Run:      "^TestValidate$",
	},

	// Lint.
	{
		Name:     "rate-range accepts a range of less than two scrape intervals",
		File:     "internal/lint/rate_range.go",
		Original: "m.Range >= 2*interval",
		Mutant:   "m.Range >= interval",
		Packages: []string{"./internal/lint"},
		Run:      "^TestRateRange$",
	},
	{
		Name:     "memory-limit accepts a memory alert on a service without a limit",
		File:     "internal/lint/memory_limit.go",
		Original: "if s.MemoryLimitBytes == 0 {",
		Mutant:   "if s.MemoryLimitBytes < 0 {",
		Packages: []string{"./internal/lint"},
		Run:      "^TestMemoryLimit$",
	},
	{
		Name:     "template-labels also reports a label an expression with an absent() side lacks, twice with absent-labels",
		File:     "internal/lint/template_labels.go",
		Original: "if !ok || rl.Absent || hasAbsentBranch(r.AST) {",
		Mutant:   "if !ok || rl.Absent {",
		Packages: []string{"./internal/lint"},
		Run:      "^TestTemplateLabelsHandsAbsentToAbsentLabels$",
	},
	{
		Name:     "absent-labels leaves the \"or absent(...)\" side unchecked",
		File:     "internal/lint/absent_labels.go",
		Original: "if rl, ok := analysis.LabelsOf(b, nil); ok && rl.Absent {",
		Mutant:   "if rl, ok := analysis.LabelsOf(b, nil); ok && !rl.Absent {",
		Packages: []string{"./internal/lint"},
		Run:      "^TestTemplateLabelsHandsAbsentToAbsentLabels$",
	},

	// The runbook's memory alerts: thresholds, comparison and for, held by
	// the runbook's numbers and by the alerts' own promtool scenarios.
	{
		Name:     "HighMemoryUsage warns at 80%, not the runbook's 85%",
		File:     "rules/memory.go",
		Original: `"HighMemoryUsage", 0.85,`,
		Mutant:   `"HighMemoryUsage", 0.80,`,
		Packages: []string{"./rules"},
		Run:      "^TestTheAlertsKeepTheRunbooksTimings$",
	},
	{
		Name:     "CriticalMemoryUsage waits 3m, not the runbook's 2m",
		File:     "rules/memory.go",
		Original: `"CriticalMemoryUsage", 0.95, t.profile().D(2*time.Minute),`,
		Mutant:   `"CriticalMemoryUsage", 0.95, t.profile().D(3*time.Minute),`,
		Packages: []string{"./rules"},
		Run:      "^TestTheAlertsKeepTheRunbooksTimings$",
	},
	{
		Name:     "the memory alerts fire at or above the threshold, not above it",
		File:     "rules/docker.go",
		Original: "spec.Filter(containers(d.svc, catalog.ContainerMemoryUsageRatio), spec.OpGt, threshold)",
		Mutant:   "spec.Filter(containers(d.svc, catalog.ContainerMemoryUsageRatio), spec.OpGe, threshold)",
		Packages: []string{"./rules"},
		Run:      "^TestTheAlertsKeepTheRunbooksTimings$",
	},
	{
		Name:     "the memory alerts fire below the threshold (promtool's scenarios catch it)",
		File:     "rules/docker.go",
		Original: "spec.Filter(containers(d.svc, catalog.ContainerMemoryUsageRatio), spec.OpGt, threshold)",
		Mutant:   "spec.Filter(containers(d.svc, catalog.ContainerMemoryUsageRatio), spec.OpLt, threshold)",
		Packages: []string{"./internal/generate"},
		Run:      "^TestGatewayAlertsAreProvenByPromtool$",
	},

	// The outage's impact, from when it began: caught by ServiceDown's
	// promtool scenario of an outage past an hour.
	{
		Name:     "ServedRate reads the traffic before the outage over a fixed hour: past it, the impact reads unknown",
		File:     "rules/impact.go",
		Original: "answering), heldServed(svc))}",
		Mutant:   "answering), spec.Call(\"max_over_time\", &parser.SubqueryExpr{Expr: servedNow(svc, p, spec.Eq(\"job\", job)), Range: time.Hour}))}",
		Packages: []string{"./internal/generate"},
		Run:      "^TestGatewayAlertsAreProvenByPromtool$",
	},

	// The pages' meaning, caught by the scenario suite over the output the
	// mutated spec builds.
	{
		Name:       "ServiceDown forgets a job left with no target (containers removed)",
		File:       "rules/docker.go",
		Original:   `return spec.Or(spec.Filter(spec.Max(up, "job"), spec.OpEq, 0), spec.Call("absent", up))`,
		Mutant:     `return spec.Filter(spec.Max(up, "job"), spec.OpEq, 0)`,
		Packages:   []string{"./test/scenarios"},
		Run:        "^TestScenarios$",
		Regenerate: true,
	},
	{
		Name:       "ServiceDown pages per target again: one stopped replica of two pages",
		File:       "rules/docker.go",
		Original:   `return spec.Or(spec.Filter(spec.Max(up, "job"), spec.OpEq, 0), spec.Call("absent", up))`,
		Mutant:     `return spec.Or(spec.Filter(up, spec.OpEq, 0), spec.Call("absent", up))`,
		Packages:   []string{"./test/scenarios"},
		Run:        "^TestScenarios$",
		Regenerate: true,
	},
	{
		Name:       "ContainerOOMKilled stands down for a merely pending ServiceDown: a kill the restart recovers from never pages",
		File:       "rules/failures.go",
		Original:   `spec.Eq("alertstate", "firing")`,
		Mutant:     `spec.Eq("alertstate", "pending")`,
		Packages:   []string{"./test/scenarios"},
		Run:        "^TestScenarios$",
		Regenerate: true,
	},
	{
		Name:     "ServiceDown's diagnosis reaches back a day before the outage: yesterday's crash explains today's outage",
		File:     "rules/servicedown.go",
		Original: "const diagnosisLead = 10 * time.Minute",
		Mutant:   "const diagnosisLead = 24 * time.Hour",
		Packages: []string{"./internal/generate"},
		Run:      "^TestGatewayAlertsAreProvenByPromtool$",
	},
	{
		Name:     "the YAML spec is decoded leniently: a misspelt field is dropped without a word",
		File:     "spec/yamlspec/decode.go",
		Original: "dec.KnownFields(true)",
		Mutant:   "dec.KnownFields(false)",
		Packages: []string{"./spec/yamlspec"},
		Run:      "^TestParseReportsEveryProblemAtItsLineAndColumn$",
	},
	{
		Name:     "runbook_inhibitions adds the runbook's inhibitions after the file's own",
		File:     "spec/yamlspec/convert.go",
		Original: "s.Routing.Inhibitions = append(rules.Inhibitions(s), s.Routing.Inhibitions...)",
		Mutant:   "s.Routing.Inhibitions = append(s.Routing.Inhibitions, rules.Inhibitions(s)[1:]...)",
		Packages: []string{"./spec/yamlspec"},
		Run:      "^TestGatewayYAMLBuildsTheGoSpecsGeneratedFiles$",
	},
	{
		Name:     "a custom alert's input series merges any sample into a growing segment: promtool reads other values",
		File:     "spec/yamlspec/custom.go",
		Original: "case seg != nil && !seg.Stale && seg.For > step && v.Value == next:",
		Mutant:   "case seg != nil && !seg.Stale && seg.For > step:",
		Packages: []string{"./spec/yamlspec"},
		Run:      "^TestCustomAlertScenariosRunInPromtool$",
	},
	{
		Name:     "promgen init overwrites the spec file it finds",
		File:     "cmd/promgen/commands/init.go",
		Original: "os.O_WRONLY|os.O_CREATE|os.O_EXCL",
		Mutant:   "os.O_WRONLY|os.O_CREATE|os.O_TRUNC",
		Packages: []string{"./cmd/promgen/commands"},
		Run:      "^TestInitRefusesToOverwrite$",
	},
	// Remote Docker hosts.
	{
		Name:     "a remote container's other published ports stay targets, at its bridge IP",
		File:     "internal/generate/prometheus.go",
		Original: "\t\t\tkeepEqual(tmpPrivatePort, tmpMetricsPort),\n",
		Mutant:   "",
		Packages: []string{"./internal/generate"},
		Run:      "^TestRemoteContainersAreScrapedAtTheirPublishedPort$",
	},
	{
		Name:     "TLS on a tcp:// host passes validation, and docker_sd ignores it",
		File:     "spec/scrape.go",
		Original: `case u.Scheme == "tcp" && (h.TLS != nil || h.BasicAuth != nil):`,
		Mutant:   `case u.Scheme == "tcp" && false:`,
		Packages: []string{"./spec"},
		Run:      "^TestValidateScrape$",
	},
	// Found by trying the tool as a user would.
	{
		Name:     "a Deployment's pods are any two lower-case segments: a <deployment>-migrate Job's OOM kills page as the service's",
		File:     "rules/kubernetes.go",
		Original: `return regexp.QuoteMeta(k.W.Deployment) + "-" + c + "{1,10}-" + c + "{5}"`,
		Mutant:   `return regexp.QuoteMeta(k.W.Deployment) + "-[a-z0-9]+-[a-z0-9]+"`,
		Packages: []string{"./rules"},
		Run:      "^TestPodPatternIsTheDeploymentsPodsOnly$",
	},
	{
		Name:     "lint reads whatever a folder holds under a .yml name: a FIFO hangs it",
		File:     "internal/lint/input.go",
		Original: "err != nil || !info.Mode().IsRegular()",
		Mutant:   "err != nil || info == nil",
		Packages: []string{"./internal/lint"},
		Run:      "^TestReadInputs$",
	},
	{
		Name:     "the Kubernetes crash-loop warning names the kubelet's reason, not the Docker target's word",
		File:     "rules/kubernetes.go",
		Original: "return reasonWords(spec.Join(codes, reasons, catalog.KubePodLabels, []string{catalog.LabelReason}))",
		Mutant:   "return spec.Join(codes, reasons, catalog.KubePodLabels, []string{catalog.LabelReason})",
		Packages: []string{"./rules"},
		Run:      "^TestKubernetesBuildersHoldForAnyService$",
	},
	{
		Name:     "spec validation passes a memory alert on a service without a limit: only lint says so, at the generated line",
		File:     "spec/validate.go",
		Original: "\tif m.Limit == 0 {\n",
		Mutant:   "\tif m.Limit < 0 {\n",
		Packages: []string{"./spec"},
		Run:      "^TestValidate$",
	},
}
