# multiprocessing.Manager: a dict, a list, a queue and a lock shared with
# child processes through the manager's server process. The default manager
# (fork) talks over a unix socket in a temporary directory; a second one
# (spawn) over TCP on 127.0.0.1, port 0. Printed sorted, so the order in
# which children ran does not show. Run by net_cases.sh (network_test.sh).
import multiprocessing as mp
from multiprocessing.managers import SyncManager


def worker(shared, items, queue, lock, k):
    with lock:
        shared[f"child{k}"] = k * k
        items.append(f"from child {k}")
    queue.put(("child", k))


def run(label, ctx, manager):
    with manager:
        print(label, "address family", type(manager.address).__name__)
        shared = manager.dict({"parent": 0})
        items = manager.list(["from parent"])
        queue = manager.Queue()
        lock = manager.Lock()
        procs = [ctx.Process(target=worker, args=(shared, items, queue, lock, k)) for k in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(20)
        print(label, "children exit codes", [p.exitcode for p in procs])
        print(label, "dict", sorted(shared.items()))
        print(label, "list", sorted(items))
        print(label, "queue", sorted(queue.get(timeout=10) for _ in procs))


if __name__ == "__main__":
    fork = mp.get_context("fork")
    run("unix/fork", fork, fork.Manager())
    spawn = mp.get_context("spawn")
    run("tcp/spawn", spawn, SyncManager(address=("127.0.0.1", 0), authkey=b"network-test", ctx=spawn))
    print("done")
