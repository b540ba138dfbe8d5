// The client suite's safety check reads strace's network trace: it must find every
// destination (and only destinations), so that one non-loopback address fails the suite.
import t from 'tap';
import { destinations, isLoopback } from './strace.js';

// Lines as strace 6.1 writes them with -f -e trace=network (shortened payloads).
const LOG = [
  '4711 connect(45, {sa_family=AF_INET, sin_port=htons(36631), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)',
  '4712 connect(82, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
  '4712 connect(83, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
  '4713 sendto(9, "\\1\\2", 2, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, 16) = -1 ENETUNREACH (Network is unreachable)',
  '4714 sendmsg(7, {msg_name={sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=28, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = -1 ENETUNREACH (Network is unreachable)',
  '4715 connect(3, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = -1 ENOENT (No such file or directory)',
  // A netlink route query names an address in its payload: not a destination.
  '4716 sendmsg(21, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=36, nlmsg_type=RTM_GETROUTE, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=6, nlmsg_pid=0}, {rtm_family=AF_INET, rtm_dst_len=32}, [{nla_len=8, nla_type=RTA_DST}, inet_addr("23.219.91.27")]], iov_len=36}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 36',
  // Binding and reading are not contacting anyone.
  '4717 bind(60, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
  '4718 recvfrom(9, "x", 512, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("198.51.100.7")}, [16]) = 1',
  '4719 connect(46, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("127.0.0.1")}, 16 <unfinished ...>',
  '4720 sendto(10, "GET / HTTP/1.1\\r\\n"..., 18, 0, NULL, 0) = 18',
].join('\n');

t.test('destinations are the connect/sendto/sendmsg addresses, nothing else', async (t) => {
  t.same(
    destinations(LOG).map((d) => `${d.syscall} ${d.address}:${d.port}`),
    ['connect 127.0.0.1:36631', 'connect 127.0.0.1:53', 'connect ::1:53', 'sendto 192.0.2.53:53', 'sendmsg 2001:db8::1:443', 'connect 127.0.0.1:443'],
  );
});

t.test('only 127.0.0.0/8 and ::1 are loopback', async (t) => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(a), a);
  for (const a of ['192.0.2.53', '10.0.0.1', '0.0.0.0', '2001:db8::1', '::ffff:192.0.2.1', '::', 'localhost']) t.notOk(isLoopback(a), a);
});

t.test('the check fails a trace with one foreign destination', async (t) => {
  const foreign = destinations(LOG).filter((d) => !isLoopback(d.address));
  t.same(foreign.map((d) => d.address), ['192.0.2.53', '2001:db8::1']);
});
