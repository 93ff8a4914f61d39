#!/usr/bin/env bash
# A private single-node Slurm cluster on loopback (two fake GPUs), for the tests: every
# daemon in the foreground under setsid, all state, keys, sockets and logs
# in DIR, nothing of the machine's own Slurm or munge touched.
#   tests/slurm/cluster.sh start DIR [--cgroup] [--accounting]   prints "export SLURM_CONF=..."
#   tests/slurm/cluster.sh stop DIR
# --cgroup: jobs run in memory cgroups that enforce --mem (an over-limit job
# ends OUT_OF_MEMORY), as on a production cluster; without it, start-up is
# faster and nothing is enforced.
# --accounting: sacct works (slurmdbd on a private MariaDB, its data in DIR,
# grant tables off: nothing but loopback reaches it); without it, sacct
# fails as on a cluster without accounting.
# Needs slurm-wlm and munge, and for --accounting slurmdbd and
# mariadb-server (scripts/setup.sh installs them all). Ports are picked free
# per cluster so that two can run side by side.
set -euo pipefail

usage() {
  echo "usage: tests/slurm/cluster.sh start|stop DIR" >&2
  exit 2
}
(($# >= 2)) || usage
action="$1"
dir="$2"
shift 2
cgroup=0
accounting=0
for option in "$@"; do
  case "$option" in
    --cgroup) cgroup=1 ;;
    --accounting) accounting=1 ;;
    *) usage ;;
  esac
done

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
    if [[ -f "$dir/$name.pid" ]]; then
      pid="$(cat "$dir/$name.pid")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
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
if ((accounting)); then
  for tool in slurmdbd mariadbd mariadb-install-db; do
    command -v "$tool" >/dev/null ||
      { echo "cluster.sh: $tool not found (apt-get install slurmdbd mariadb-server)" >&2; exit 1; }
  done
  db_port="$(free_port)"
  dbd_port="$(free_port)"
  # A temp dir of its own: installs side by side collide in /tmp.
  mkdir -p "$dir/tmp"
  TMPDIR="$dir/tmp" mariadb-install-db --no-defaults --datadir="$dir/mysql" --auth-root-authentication-method=normal \
    --skip-test-db --user="$user" >"$dir/log/mariadb-install.out" 2>&1 || {
    echo "cluster.sh: mariadb-install-db failed:" >&2
    grep -m 3 ERROR "$dir/log/mariadb-install.out" >&2
    stop
    exit 1
  }
  TMPDIR="$dir/tmp" setsid mariadbd --no-defaults --datadir="$dir/mysql" --socket="$dir/run/mysql.sock" \
    --port="$db_port" --bind-address=127.0.0.1 --skip-grant-tables --skip-log-bin --user="$user" \
    --pid-file="$dir/run/mariadbd.pidfile" --log-error="$dir/log/mariadb.log" \
    </dev/null >>"$dir/log/mariadb.out" 2>&1 &
  echo $! >"$dir/mariadbd.pid"
  # slurmdbd reads slurmdbd.conf beside slurm.conf; it must be its user's
  # alone.
  cat >"$dir/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.sock
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=$user
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=$user
StorageLoc=slurm_acct_db
PidFile=$dir/run/slurmdbd.pidfile
LogFile=$dir/log/slurmdbd.log
EOF
  chmod 600 "$dir/slurmdbd.conf"
  for _ in $(seq 300); do
    mariadb-admin --no-defaults --socket="$dir/run/mysql.sock" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  SLURM_CONF="$dir/slurm.conf" setsid slurmdbd -D </dev/null >>"$dir/log/slurmdbd.out" 2>&1 &
  echo $! >"$dir/slurmdbd.pid"
  for _ in $(seq 300); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' \
      "$dbd_port" 2>/dev/null && break
    sleep 0.1
  done
fi
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
$(if ((accounting)); then
  echo "AccountingStorageType=accounting_storage/slurmdbd"
  echo "AccountingStorageHost=localhost"
  echo "AccountingStoragePort=$dbd_port"
  echo "AccountingStoragePass=$dir/run/munge.sock"
else
  echo "AccountingStorageType=accounting_storage/none"
fi)
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerParameters=batch_sched_delay=0
DefMemPerCPU=64
MinJobAge=600
# Job ids of their own: clusters side by side with cgroups would otherwise
# share /sys/fs/cgroup/.../job_1 (and kill each other's jobs).
FirstJobId=$((ctl_port * 1000))
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
