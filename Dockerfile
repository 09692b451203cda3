FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# ROLE=all (default), api or worker: scale the halves separately behind the same env.
CMD ["sh", "-c", "exec npx tsx app/start.ts --role=${ROLE:-all}"]
