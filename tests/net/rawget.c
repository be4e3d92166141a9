/* A program that ignores every proxy setting: resolves with the system
 * resolver, connects with a plain socket and sends an HTTP/1.1 GET.
 * usage: rawget HOST PORT [HOST_HEADER]; prints the status line; exit 0 on
 * a 200 response, 1 otherwise, 2 if it could not connect. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rawget HOST PORT [HOST_HEADER]\n");
        return 2;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int r = getaddrinfo(argv[1], argv[2], &hints, &res);
    if (r) {
        fprintf(stderr, "rawget: %s: %s\n", argv[1], gai_strerror(r));
        return 2;
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        perror("rawget: connect");
        return 2;
    }
    freeaddrinfo(res);
    char req[512];
    int n = snprintf(req, sizeof req, "GET /index.html HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                     argc > 3 ? argv[3] : argv[1]);
    if (write(fd, req, (size_t)n) != n) {
        perror("rawget: write");
        return 2;
    }
    char buf[4096];
    ssize_t got = 0, k;
    while (got < (ssize_t)sizeof buf - 1 && (k = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
        got += k;
    buf[got] = '\0';
    char *eol = strstr(buf, "\r\n");
    if (eol)
        *eol = '\0';
    printf("%s\n", buf);
    if (eol)
        printf("%s\n", eol + 2);
    return strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 8, " 200", 4) == 0 ? 0 : 1;
}
