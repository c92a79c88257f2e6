-- CreateEnum
CREATE TYPE "account_export_status" AS ENUM ('pending', 'ready', 'expired', 'failed');

-- CreateTable
CREATE TABLE "account_exports" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "status" "account_export_status" NOT NULL DEFAULT 'pending',
    "object_key" TEXT,
    "size_bytes" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ready_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_exports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "account_exports_account_id_created_at_idx" ON "account_exports"("account_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "account_exports" ADD CONSTRAINT "account_exports_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

