// Robust futexes (set_robust_list(2), pthread_mutexattr_setrobust(3)):
// a mutex whose owner dies is handed to the next locker with EOWNERDEAD.
// And priority-inheritance mutexes, which glibc builds on FUTEX_LOCK_PI
// and FUTEX_UNLOCK_PI whenever they are contended.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>
#include <vector>

namespace {

void init_robust(pthread_mutex_t* m, bool shared) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (shared) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
}

TEST(RobustMutexTest, ThreadDiesHoldingItAndTheNextLockerGetsEownerdead) {
  pthread_mutex_t m;
  init_robust(&m, false);
  std::thread t([&] { ASSERT_EQ(pthread_mutex_lock(&m), 0); });  // exits holding it
  t.join();
  EXPECT_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
  EXPECT_EQ(pthread_mutex_consistent(&m), 0);
  EXPECT_EQ(pthread_mutex_unlock(&m), 0);
  EXPECT_EQ(pthread_mutex_lock(&m), 0) << "consistent again";
  EXPECT_EQ(pthread_mutex_unlock(&m), 0);
}

TEST(RobustMutexTest, WaiterIsWokenWhenTheOwnerProcessDies) {
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* m = static_cast<pthread_mutex_t*>(mem);
  init_robust(m, true);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    if (pthread_mutex_lock(m) != 0) _exit(1);
    (void)!write(ready[1], "x", 1);
    usleep(50000);  // the parent blocks on the mutex meanwhile
    _exit(0);       // dies holding it
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(pthread_mutex_lock(m), EOWNERDEAD);
  EXPECT_EQ(pthread_mutex_consistent(m), 0);
  EXPECT_EQ(pthread_mutex_unlock(m), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(ready[0]);
  close(ready[1]);
  munmap(mem, 4096);
}

void init_pi(pthread_mutex_t* m) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
}

TEST(PiMutexTest, ContendedLockingCountsCorrectly) {
  pthread_mutex_t m;
  init_pi(&m);
  long counter = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5000; ++j) {
        pthread_mutex_lock(&m);
        ++counter;
        pthread_mutex_unlock(&m);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 20000);
  pthread_mutex_destroy(&m);
}

TEST(PiMutexTest, TrylockAndTimedlockOnAHeldLock) {
  pthread_mutex_t m;
  init_pi(&m);
  ASSERT_EQ(pthread_mutex_lock(&m), 0);
  std::thread other([&] {
    EXPECT_EQ(pthread_mutex_trylock(&m), EBUSY);
    timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 50 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1000000000;
    }
    EXPECT_EQ(pthread_mutex_timedlock(&m, &deadline), ETIMEDOUT);
  });
  other.join();
  EXPECT_EQ(pthread_mutex_unlock(&m), 0);
  std::thread taker([&] {
    EXPECT_EQ(pthread_mutex_lock(&m), 0);
    EXPECT_EQ(pthread_mutex_unlock(&m), 0);
  });
  taker.join();
  pthread_mutex_destroy(&m);
}

}  // namespace
