// The sample's root module: TypeORM through @nestjs/typeorm, and Zart on the same DataSource
// (its tables in schema "zart" beside the app's), with the workflow and its services as providers.
import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ZartModule } from 'zart/nestjs';
import type { ResolvedDatabaseUrl } from 'zart/testing';
import { DatabaseServer } from './database-server';
import { FulfilOrder } from './fulfil-order.workflow';
import { OrderEvent } from './order-event.entity';
import { OrderHistory } from './order-history.service';
import { Order } from './order.entity';
import { OrdersController } from './orders.controller';
import { Payments } from './payments.service';
import { Shipping } from './shipping.service';
import { Warehouse } from './warehouse.service';

@Module({})
export class AppModule {
  static forDatabase(database: ResolvedDatabaseUrl): DynamicModule {
    const { url } = database;
    return {
      module: AppModule,
      imports: [
        // synchronize keeps the sample to one command; a real app runs migrations.
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [Order, OrderEvent], synchronize: true }),
        TypeOrmModule.forFeature([Order, OrderEvent]),
        ZartModule.forRoot({
          typeOrmDataSource: 'default',
          // A short lease, so that after a crash (SIGKILL) the next process resumes within seconds.
          worker: { lease: process.env.ZART_LEASE ?? '5s', drain: process.env.ZART_DRAIN ?? '30s' },
        }),
      ],
      controllers: [OrdersController],
      providers: [
        OrderHistory,
        Warehouse,
        Payments,
        Shipping,
        FulfilOrder,
        { provide: DatabaseServer, useValue: new DatabaseServer(database) },
      ],
    };
  }
}
