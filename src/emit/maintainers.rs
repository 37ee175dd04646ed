//! MAINTAINERS: which people and lists a path belongs to (get_maintainer.pl semantics).
