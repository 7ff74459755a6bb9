import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE } from '../functions/core/storage/table';

const PROJECTIONS = {
  KEYS_ONLY: ProjectionType.KEYS_ONLY,
  ALL: ProjectionType.ALL,
} as const;

/**
 * The service's single DynamoDB table, built from functions/core/storage/table.ts (the
 * same definition the local stack gives dynalite): on-demand, point-in-time recovery,
 * TTL on the delivery log, encrypted with the AWS-managed key, retained on stack delete.
 */
export class Storage extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE.ttlAttribute,
      // The AWS-managed key needs no key policy or grants, and functions need no kms:* actions.
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of [TABLE.fanOutIndex, TABLE.deliveryIndex]) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: PROJECTIONS[index.projection],
      });
    }
  }
}
