# demerit: the Kafka stream processor (`demerit process`) and the rest of the `demerit` command.
#
#   docker build -t demerit:0.1.0 .
#   docker run --rm demerit:0.1.0 rules check /etc/demerit/rules
#
# Two stages on Debian 12: the builder installs the toolchain and -dev packages with the
# repository's own scripts (ops/install-deps.sh, ops/build.sh, which builds librdkafka from source
# with ops/librdkafka/build.sh), the runtime stage carries only the shared libraries the binary
# links against, the binary and the shipped rules.
# The Helm chart (helm/demerit) mounts its own config at /etc/demerit/config.yaml and its rules
# over /etc/demerit/rules; the copies baked in here make the image usable on its own.

ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS builder

# ccache is one of the installed packages and CMake would route every compile through it; a
# throw-away container gains nothing from it.
ENV CCACHE_DISABLE=1
WORKDIR /src

# Dependencies first, in their own layer, so that source changes do not reinstall them.
# install-deps.sh runs apt-get directly when run as root (no sudo in the image).
COPY ops/install-deps.sh ops/install-deps.sh
RUN bash ops/install-deps.sh \
 && rm -rf /var/lib/apt/lists/*

# librdkafka from source in its own layer too (ops/librdkafka/build.sh: a pinned upstream release;
# Debian 12's 2.0.2 cannot log in with SASL/SCRAM to Kafka 3.7.2 and later).
ENV DEMERIT_LIBRDKAFKA_PREFIX=/opt/librdkafka
COPY ops/librdkafka/build.sh ops/librdkafka/build.sh
RUN bash ops/librdkafka/build.sh

COPY . .
# build.sh: CMake + Ninja, RelWithDebInfo, into /src/build. The project has no install() rules,
# so the binary is copied from its build location. Debug info is stripped unless STRIP=0.
ARG STRIP=1
RUN bash ops/build.sh -DDEMERIT_TESTS=OFF -DDEMERIT_BENCHMARKS=OFF \
 && install -D -m 0755 build/services/cli/demerit /usr/local/bin/demerit \
 && if [ "$STRIP" = 1 ]; then strip --strip-debug /usr/local/bin/demerit; fi

# ---------------------------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS runtime

# Runtime shared libraries only (the non -dev halves of what install-deps.sh installs, and what
# the librdkafka built in the builder stage links: OpenSSL, zlib, zstd, lz4), the IANA time-zone
# database (date/tz reads /usr/share/zoneinfo) and CA certificates for SASL_SSL. SCRAM needs no
# SASL modules: librdkafka implements it on OpenSSL.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      librocksdb7.8 \
      libssl3 zlib1g libzstd1 liblz4-1 \
      libprotobuf32 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libyaml-cpp0.7 \
      libdate-tz3 \
      libjemalloc2 \
      tzdata \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed non-root user: uid/gid 10001, matching runAsUser/fsGroup in the Helm chart.
RUN groupadd --system --gid 10001 demerit \
 && useradd --system --uid 10001 --gid demerit --home-dir /var/lib/demerit --no-create-home \
      --shell /usr/sbin/nologin demerit \
 && install -d -m 0750 -o demerit -g demerit /var/lib/demerit

COPY --from=builder /usr/local/bin/demerit /usr/local/bin/demerit
# librdkafka and its C++ wrapper, as built in the builder stage.
COPY --from=builder /opt/librdkafka/lib/librdkafka.so.1 /opt/librdkafka/lib/librdkafka++.so.1 \
     /usr/local/lib/
RUN ldconfig
# The shipped policy (sites.yaml, packs/, plus its tests and samples), read-only for the user.
COPY --from=builder /src/rules /etc/demerit/rules

# A default config so that the image runs without the chart; flags override it and the chart
# mounts its own file over it. Fails the build if a shared library is missing.
RUN printf '%s\n' \
      '# Default demerit process config of the image; the Helm chart mounts its own.' \
      'rules: /etc/demerit/rules' \
      'state: /var/lib/demerit' \
      'metrics_listen: 0.0.0.0:9464' \
      > /etc/demerit/config.yaml \
 && chmod -R a+rX /etc/demerit \
 && if ldd /usr/local/bin/demerit | grep 'not found'; then exit 1; fi \
 && demerit rules check /etc/demerit/rules

USER 10001:10001
WORKDIR /var/lib/demerit
# /metrics, /healthz, /readyz
EXPOSE 9464
ENTRYPOINT ["demerit"]
CMD ["process", "--config", "/etc/demerit/config.yaml"]
