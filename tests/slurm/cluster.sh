#!/usr/bin/env bash
# A private single-node Slurm cluster on loopback (two fake GPUs), for the tests: every
# daemon in the foreground under setsid, all state, keys, sockets and logs
# in DIR, nothing of the machine's own Slurm or munge touched.
#   tests/slurm/cluster.sh start DIR [--cgroup]   prints "export SLURM_CONF=..."
#   tests/slurm/cluster.sh stop DIR
# --cgroup: jobs run in memory cgroups that enforce --mem (an over-limit job
# ends OUT_OF_MEMORY), as on a production cluster; without it, start-up is
# faster and nothing is enforced.
# Needs slurm-wlm and munge (scripts/setup.sh installs them). Ports are
# picked free per cluster so that two can run side by side.
set -euo pipefail

usage() {
  echo "usage: tests/slurm/cluster.sh start|stop DIR" >&2
  exit 2
}
(($# == 2 || $# == 3)) || usage
action="$1"
dir="$2"
cgroup=0
if (($# == 3)); then
  [[ "$3" == --cgroup ]] || usage
  cgroup=1
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
  for name in slurmd slurmctld munged; do
    if [[ -f "$dir/$name.pid" ]]; then
      pid="$(cat "$dir/$name.pid")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for name in slurmd slurmctld munged; do
    if [[ -f "$dir/$name.pid" ]]; then
      pid="$(cat "$dir/$name.pid")"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

case "$action" in
  stop)
    stop
    exit 0
    ;;
  start) ;;
  *) usage ;;
esac

for tool in munged slurmctld slurmd sbatch; do
  command -v "$tool" >/dev/null || { echo "cluster.sh: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
mkdir -p "$dir"/{state,spool,log,run}
dir="$(cd "$dir" && pwd)"
user="$(id -un)"
# CLUSTER_MAX_ARRAY_SIZE: the cluster's MaxArraySize (default 1001).
# CLUSTER_CPUS: more CPUs than the machine has (for benchmarks of short,
# idle jobs); slurmd is told to trust the configuration.
cpus="${CLUSTER_CPUS:-$(nproc)}"
mem_mb=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024 / 2))

# munge: its own key and socket.
dd if=/dev/urandom of="$dir/munge.key" bs=1 count=1024 status=none
chmod 400 "$dir/munge.key"
setsid munged -F --force --key-file="$dir/munge.key" --socket="$dir/run/munge.sock" \
  --pid-file="$dir/run/munged.pidfile" --log-file="$dir/log/munged.log" --seed-file="$dir/run/munge.seed" \
  </dev/null >>"$dir/log/munged.out" 2>&1 &
echo $! >"$dir/munged.pid"

# Two fake GPUs: Slurm keeps a GPU only with a File=, so each is a symlink
# to /dev/null; a job given one gets CUDA_VISIBLE_DEVICES from Slurm.
ln -sf /dev/null "$dir/fake-gpu0"
ln -sf /dev/null "$dir/fake-gpu1"
cat >"$dir/gres.conf" <<EOF
Name=gpu File=$dir/fake-gpu0
Name=gpu File=$dir/fake-gpu1
EOF

ctl_port="$(free_port)"
d_port="$(free_port)"
cat >"$dir/slurm.conf" <<EOF
ClusterName=headroomtest
GresTypes=gpu
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pidfile
SlurmdPidFile=$dir/run/slurmd.pidfile
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
$(if ((cgroup)); then
  echo "ProctrackType=proctrack/cgroup"
  echo "TaskPlugin=task/cgroup"
  echo "JobAcctGatherType=jobacct_gather/cgroup"
else
  echo "ProctrackType=proctrack/linuxproc"
  echo "TaskPlugin=task/none"
  echo "JobAcctGatherType=jobacct_gather/none"
fi)
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerParameters=batch_sched_delay=0
DefMemPerCPU=64
MinJobAge=600
MaxArraySize=${CLUSTER_MAX_ARRAY_SIZE:-1001}
ReturnToService=2
MpiDefault=none
$( [[ -n "${CLUSTER_CPUS:-}" ]] && echo "SlurmdParameters=config_overrides" )
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
if ((cgroup)); then
  # Slurm reads cgroup.conf beside slurm.conf. cgroup v2 where the machine
  # has it unified, else v1.
  plugin=cgroup/v1
  [[ -f /sys/fs/cgroup/cgroup.controllers ]] && plugin=cgroup/v2
  cat >"$dir/cgroup.conf" <<EOF
CgroupPlugin=$plugin
CgroupMountpoint=/sys/fs/cgroup
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
AllowedSwapSpace=0
EOF
fi
export SLURM_CONF="$dir/slurm.conf"
setsid slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
echo $! >"$dir/slurmctld.pid"
setsid slurmd -D -N localhost -f "$SLURM_CONF" </dev/null >>"$dir/log/slurmd.out" 2>&1 &
echo $! >"$dir/slurmd.pid"

# Up when the node takes jobs.
for _ in $(seq 300); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.1
done
echo "cluster.sh: the cluster did not come up in 30 s; logs in $dir/log:" >&2
tail -n 5 "$dir"/log/*.log "$dir"/log/*.out >&2 || true
stop
exit 1
