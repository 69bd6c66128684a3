# Python threads: 8 workers feeding a queue, a lock, a timer signal.
import queue
import signal
import threading

q = queue.Queue()
lock = threading.Lock()
total = 0


def worker(n):
    global total
    for i in range(200):
        q.put(n * 1000 + i)
        with lock:
            total += 1


threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
items = []
while not q.empty():
    items.append(q.get())
print(len(items), sum(items), total)

event = threading.Event()
threading.Timer(0.05, event.set).start()
print("event set:", event.wait(10))

got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
signal.setitimer(signal.ITIMER_REAL, 0.05)
signal.pause()
print("itimer signal", got)
