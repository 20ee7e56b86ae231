"""Workload analyzers: the controller itself (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
CronJob), not its pods. Each module owns one class and exposes `analyze(ctx: WorkloadContext)`."""
