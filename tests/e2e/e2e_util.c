/* What the end-to-end tests share. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"

extern char **environ;

int e2e_run(const char *exe, const char *const *args, const struct e2e_io *io)
{
	static const struct e2e_io none;
	char *argv[32] = { (char *)exe };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, i, r;

	if (!io)
		io = &none;
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (io->out_path)
		posix_spawn_file_actions_addopen(&fa, 1, io->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (io->err_path)
		posix_spawn_file_actions_addopen(&fa, 2, io->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = posix_spawn(&pid, exe, &fa, NULL, argv, io->env ? io->env : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -1;
	if (io->sig && io->after_ms > 0) {
		usleep((useconds_t)io->after_ms * 1000);
		kill(pid, io->sig);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int e2e_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int e2e_run_dir(const char *dir, cJSON **results, char **log)
{
	char spec[160], out[160], path[200], *text;
	const char *args[] = { "run", spec, "--out-dir", out, "--quiet", NULL };
	int status;

	snprintf(spec, sizeof(spec), "%s/guard.yaml", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	status = e2e_run(TG_EXE, args, NULL);
	snprintf(path, sizeof(path), "%s/results.json", out);
	text = tg_test_read(path, NULL);
	*results = text ? cJSON_Parse(text) : NULL;
	free(text);
	snprintf(path, sizeof(path), "%s/example.log", dir);
	*log = tg_test_read(path, NULL);
	return status;
}

void e2e_tasks_spec(const char *dir, const char *name, const char *bin, int block_ms, int threshold_ms)
{
	char *text, path[160];

	if (asprintf(&text,
		     "version: 1\n"
		     "name: %s\n"
		     "target:\n"
		     "  command: [\"%s\", \"--seconds\", \"4\", \"--block-ms\", \"%d\"]\n"
		     "  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		     "  ready: { delay: 100ms }\n"
		     "  stop: { signal: SIGTERM, grace: 5s }\n"
		     "probe:\n"
		     "  blocking_threshold: %dms\n"
		     "assertions: []  # measure only: this target blocks on purpose\n"
		     "load:\n"
		     "  - sleep: 2s\n",
		     name, bin, block_ms, dir, threshold_ms) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/guard.yaml", dir);
	if (!tg_test_write(path, text))
		abort();
	free(text);
}
