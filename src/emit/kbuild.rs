//! Kbuild and Kconfig: which objects a touched file builds into, which symbols guard them,
//! and the compile-check scripts that build exactly those objects per arch.
